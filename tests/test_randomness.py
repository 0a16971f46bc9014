"""The one randomness module: named streams that cannot collide, per-sample Philox streams, fork-safe sources."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from gluon_augplug.randomness import STREAMS, RandomSource, derived_seed, sample_generator, seed_key


def test_named_streams_do_not_collide_where_positional_integers_did():
    # 0.1 derived rank 3's shuffle seed as SeedSequence([seed, 3]) and the test set's as ([seed, 3]): equal
    assert np.random.SeedSequence([0, 3]).generate_state(1)[0] == np.random.SeedSequence([0, 3, 0]).generate_state(1)[0]
    assert derived_seed(0, "shuffle", 3, 0) != derived_seed(0, "test-augment")
    assert derived_seed(0, "train-augment", 3) != derived_seed(0, "test-augment")
    # numpy pads entropy with zeros; the number of counters enters the derivation, so trailing zeros count
    assert derived_seed(0, "mxnet", 0) != derived_seed(0, "mxnet", 0, 0)


def test_every_stream_instance_of_a_small_run_is_distinct():
    seeds = [derived_seed(seed, stream, *counters)
             for seed in (0, 1)
             for stream in sorted(STREAMS)
             for counters in [(), (0,), (1,), (3,), (0, 0), (1, 0), (0, 1), (3, 2, 1, 0)]]
    seeds += [derived_seed(0, "batch-augment", rank, epoch, batch, device)
              for rank, epoch, batch, device in itertools.product(range(2), range(3), range(20), range(2))]
    assert len(set(seeds)) == len(seeds)


def test_derived_seeds_are_stable_and_reject_unknown_streams():
    assert derived_seed(7, "weights") == derived_seed(7, "weights")
    assert 0 <= derived_seed(7, "weights") < 2**32
    with pytest.raises(ValueError, match="unknown random stream 'shufle'"):
        derived_seed(0, "shufle")


def test_sample_streams_depend_on_key_index_and_epoch_only():
    key = seed_key(0)
    a = sample_generator(key, 5, 1).random(4)
    np.testing.assert_array_equal(a, sample_generator(key, 5, 1).random(4))
    for other in (sample_generator(key, 6, 1), sample_generator(key, 5, 2), sample_generator(seed_key(1), 5, 1)):
        assert not np.array_equal(a, other.random(4))


def test_a_source_restarts_its_stream_when_copied_and_when_reseeded():
    import pickle

    source = RandomSource(3)
    first = source.generator().random(3)
    copy = pickle.loads(pickle.dumps(source))
    np.testing.assert_array_equal(copy.generator().random(3), first)
    source.reseed(3)
    np.testing.assert_array_equal(source.generator().random(3), first)


def test_old_import_paths_still_work():
    from gluon_augplug.data.augment import sample_generator as old_sample_generator
    from gluon_augplug.transforms.base import RandomSource as OldRandomSource

    assert old_sample_generator is sample_generator and OldRandomSource is RandomSource


def test_global_random_state_seeds_from_the_generator_restores_and_serializes_threads():
    """A library that draws from the global generators, wrapped: seeded by our generator, replayable,
    the caller's global state untouched, and the same results under 8 threads as one after another."""
    import random
    import threading

    from gluon_augplug.randomness import global_random_state

    def library_call():  # what albumentations 1.x or imgaug do inside
        return random.random(), float(np.random.uniform()), int(np.random.randint(0, 1000))

    def seeded(seed):
        with global_random_state(np.random.default_rng(seed)):
            first = library_call()
            threading.Event().wait(0.001)  # give other threads the chance to interleave
            return first + library_call()

    random.seed(7)
    np.random.seed(7)
    before = (random.getstate(), np.random.get_state()[1].copy())
    expected = [seeded(s) for s in range(32)]
    assert expected[3] == seeded(3) and expected[3] != expected[4]  # seeded and replayable
    assert random.getstate() == before[0] and (np.random.get_state()[1] == before[1]).all()  # restored
    results = {}

    def worker(seeds):
        for s in seeds:
            results[s] = seeded(s)

    threads = [threading.Thread(target=worker, args=(range(k, 32, 8),)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[s] for s in range(32)] == expected
