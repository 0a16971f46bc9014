"""The ``augplug`` command line."""
