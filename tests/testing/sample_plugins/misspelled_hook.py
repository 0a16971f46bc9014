"""Broken: the hook name is misspelled, so nothing would ever be registered."""
import gluon_augplug


@gluon_augplug.hookimpl
def augplug_register_transform(register):
    register("Never", lambda: (lambda img: img))
