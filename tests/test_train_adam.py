"""FusedAdam (the fused ApplyAdam kernel the original's TF1 AdamOptimizer ran) against Adam written out in numpy,
against Keras' element-wise Adam, and checkpoint-compatible with it both ways."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from sfmlearner_tf.training.adam import FusedAdam

LR, B1, B2, EPS = 0.01, 0.9, 0.999, 1e-8


def adam_by_hand(w0: np.ndarray, grads: list[np.ndarray]) -> np.ndarray:
    """Adam with epsilon outside the root and the bias correction folded into the step size, in float64."""
    w, m, v = w0.astype(np.float64), 0.0, 0.0
    for t, g in enumerate(grads, start=1):
        m = B1 * m + (1 - B1) * g
        v = B2 * v + (1 - B2) * g.astype(np.float64) ** 2
        w = w - LR * np.sqrt(1 - B2**t) / (1 - B1**t) * m / (np.sqrt(v) + EPS)
    return w


def run_updates(optimizer: keras.optimizers.Optimizer, w0: np.ndarray, grads: list[np.ndarray]) -> tf.Variable:
    variable = tf.Variable(w0)
    optimizer.build([variable])
    step = tf.function(lambda g: optimizer.apply_gradients([(g, variable)]), autograph=False)
    for g in grads:
        step(tf.constant(g))
    return variable


def test_three_updates_match_adam_by_hand() -> None:
    w0 = np.array([0.5, -1.0, 2.0, 0.0], np.float32)
    grads = [np.array([0.3, -0.2, 0.05, 1e-3], np.float32), np.array([-0.1, -0.2, 0.4, 0.0], np.float32),
             np.array([0.2, 0.6, -0.05, 2.0], np.float32)]
    optimizer = FusedAdam(learning_rate=LR, beta_1=B1, beta_2=B2, epsilon=EPS)
    variable = run_updates(optimizer, w0, grads)
    np.testing.assert_allclose(variable.numpy(), adam_by_hand(w0, grads), rtol=0, atol=1e-6)
    assert int(optimizer.iterations.numpy()) == 3


def test_agrees_with_keras_adam_to_float32_round_off() -> None:
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(64, 33)).astype(np.float32)
    grads = [rng.normal(scale=0.01, size=w0.shape).astype(np.float32) for _ in range(5)]
    fused, plain = (cls(learning_rate=2e-4, beta_1=B1, beta_2=B2, epsilon=EPS) for cls in (FusedAdam,
                                                                                            keras.optimizers.Adam))
    got, want = run_updates(fused, w0, grads), run_updates(plain, w0, grads)
    # Float32 round-off apart: 2 ulp of a weight near 1, 1e-5 of the five updates' size (about 2e-3) near 0.
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=3e-7, atol=2e-8)
    assert int(fused.iterations.numpy()) == int(plain.iterations.numpy()) == 5


def test_moment_rates_are_one_minus_beta_in_float32_as_in_the_original() -> None:
    """The kernel takes beta1 and beta2 as float32, so v's rate is 1 - float32(0.999) = 9.9998713e-4, as in the
    original's TF1 AdamOptimizer; Keras' Adam uses 1 - 0.999 in float64 (1e-3), 1.3e-5 larger."""
    g = np.array([0.5, -2.0, 3e-3], np.float32)
    optimizer = FusedAdam(learning_rate=LR, beta_1=B1, beta_2=B2, epsilon=EPS)
    run_updates(optimizer, np.zeros(3, np.float32), [g])
    m, v = (slot.numpy() for slot in (optimizer._momentums[0], optimizer._velocities[0]))
    np.testing.assert_allclose(m, g * (np.float32(1) - np.float32(B1)), rtol=1e-7)
    np.testing.assert_allclose(v, g * g * (np.float32(1) - np.float32(B2)), rtol=1e-7)
    assert abs(v[0] / (0.25 * (1 - B2)) - 1 + 1.287e-5) < 1e-7


@pytest.mark.parametrize(("writer", "reader"), [(keras.optimizers.Adam, FusedAdam),
                                                (FusedAdam, keras.optimizers.Adam)])
def test_checkpoints_move_between_it_and_keras_adam(tmp_path: Path, writer: type, reader: type) -> None:
    """Runs saved before the fused kernel (Keras' Adam) resume with it, and the other way round."""
    w0 = np.arange(6, dtype=np.float32)
    saved = writer(learning_rate=LR, epsilon=EPS)
    variable = run_updates(saved, w0, [np.full(6, 0.5, np.float32)] * 2)
    prefix = tf.train.Checkpoint(optimizer=saved, w=variable).write(str(tmp_path / "ckpt"))
    restored = reader(learning_rate=LR, epsilon=EPS)
    target = tf.Variable(np.zeros(6, np.float32))
    restored.build([target])
    tf.train.Checkpoint(optimizer=restored, w=target).read(prefix).assert_consumed()
    assert int(restored.iterations.numpy()) == 2
    for a, b in zip(restored.variables, saved.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_amsgrad_is_refused() -> None:
    with pytest.raises(ValueError, match="no amsgrad"):
        FusedAdam(amsgrad=True)


def test_inside_the_loss_scale_optimizer_it_unscales_then_updates() -> None:
    """float16 training wraps it (make_optimizer(loss_scaling=True)): the first update of a scaled gradient is
    Adam's first step, lr * sign(g) up to epsilon."""
    from sfmlearner_tf.training.step import make_optimizer

    variable = tf.Variable(np.ones(4, np.float32))
    optimizer = make_optimizer(0.01, 0.9, loss_scaling=True)
    assert isinstance(optimizer.inner_optimizer, FusedAdam)
    optimizer.build([variable])
    scaled = np.float32(optimizer.scale_loss(1.0)) * np.array([0.5, -0.5, 2.0, -2.0], np.float32)
    tf.function(lambda g: optimizer.apply_gradients([(g, variable)]), autograph=False)(tf.constant(scaled))
    np.testing.assert_allclose(variable.numpy(), [0.99, 1.01, 0.99, 1.01], rtol=0, atol=1e-6)
