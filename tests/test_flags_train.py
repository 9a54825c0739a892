"""flags/train.py and flags/demo.py: defaults equal the original's, each flag sets one config field, bad values fail
naming the flag, presets match the paper's table and the demo."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from absl import flags

import flags.demo as demo_flags
import flags.train as train_flags
from sfmlearner_tf.errors import ConfigError
from sfmlearner_tf.settings import idle_settings, setting, setting_of
from sfmlearner_tf.tasks.demo import DemoConfig
from sfmlearner_tf.training import TrainConfig
from sfmlearner_tf.training.config import NOT_SETTABLE, RESUMABLE_CHANGES, SETTING_PATHS
from sfmlearner_tf.training.recipes import IMPROVED, SWITCHES

PRESETS = Path(train_flags.__file__).parent / "presets"

# Seed paper, hyperparameter table: preset -> (lambda_seg, smooth_weight, learning_rate, gradient order, restart).
PAPER_ROWS = {
    "dsfm_seg0_smooth0.5_lr2e-4": (0.0, 0.5, 2e-4, 1, False),
    "dsfm_seg0.4_smooth0.5_lr2e-4": (0.4, 0.5, 2e-4, 1, False),
    "dsfm_seg100_smooth0.5_lr2e-4": (100.0, 0.5, 2e-4, 1, False),
    "dsfm_seg7_smooth2_lr2e-4": (7.0, 2.0, 2e-4, 1, False),
    "dsfm_seg10_order2_smooth0.5_lr2e-4": (10.0, 0.5, 2e-4, 2, False),
    "dsfm_seg10_order2_smooth0.5_lr1e-4_restart": (10.0, 0.5, 1e-4, 2, True),
    "dsfm_seg5_smooth0.75_lr2e-4": (5.0, 0.75, 2e-4, 1, False),
    "dsfm_seg2.5_smooth0.75_lr4e-4": (2.5, 0.75, 4e-4, 1, False),
    "dsfm_best_seg2.5_smooth0.75_lr2e-4_restart": (2.5, 0.75, 2e-4, 1, True),
}


def parse(*argv: str) -> flags.FlagValues:
    values = flags.FlagValues()
    train_flags.define_flags(values)
    values(["run_train", *argv])
    return values


def test_defaults_are_the_originals() -> None:
    config = train_flags.config_from_flags(parse())
    assert config == TrainConfig()
    adam = config.optimizer
    assert (adam.learning_rate, adam.beta1, adam.beta2, adam.epsilon, adam.weight_decay) == (2e-4, 0.9, 0.999, 1e-8, 0)
    assert (config.loss.smooth_weight, config.loss.explain_reg_weight, config.data.batch_size) == (0.5, 0.0, 4)
    assert (config.data.img_height, config.data.img_width, config.data.seq_length) == (128, 416, 3)
    assert (config.max_steps, config.last_step, config.summary_freq, config.save_latest_freq) == (200000, 199999,
                                                                                                    100, 5000)
    assert (config.loss.lambda_seg, config.seed, config.init_checkpoint_file) == (0, 8964, None)


@pytest.mark.parametrize("argv, flag", [
    ("--smooth_weight=-0.1", "--smooth_weight"),
    ("--lambda_seg=-1", "--lambda_seg"),
    ("--learning_rate=0", "--learning_rate"),
    ("--beta1=1.0", "--beta1"),
    ("--beta2=-0.1", "--beta2"),
    ("--epsilon=0", "--epsilon"),
    ("--seq_length=4", "--seq_length"),
    ("--seq_length=1", "--seq_length"),
    ("--img_width=420", "--img_width"),
    ("--img_height=100", "--img_height"),
    ("--seg_gradient_order=3", "--seg_gradient_order"),
    ("--seg_num_scales=5", "--seg_num_scales"),
    ("--batch_size=0", "--batch_size"),
    ("--val_batches=-1", "--val_batches"),
    ("--distribution_strategy=tpu", "--distribution_strategy"),
    ("--max_steps=1", "--max_steps"),  # steps 1..0: no step (it used to end with "checkpoint None")
])
def test_bad_values_fail_naming_the_flag(argv: str, flag: str) -> None:
    with pytest.raises(flags.Error, match=f"{flag}={argv.split('=')[1]}" if "strategy" not in flag else flag):
        parse(argv)


def test_img_size_multiple_follows_the_explainability_branch() -> None:
    assert train_flags.config_from_flags(parse("--img_width=208", "--img_height=64")).data.img_width == 208
    with pytest.raises(flags.IllegalFlagValueError, match=r"--img_width=208.*multiple of 32"):
        parse("--img_width=208", "--explain_reg_weight=0.2")


def _leaves(config: object, prefix: str = "") -> dict[str, object]:
    """Every non-dataclass field of a nested dataclass, by dotted path."""
    out: dict[str, object] = {}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if dataclasses.is_dataclass(value):
            out.update(_leaves(value, f"{prefix}{field.name}."))
        else:
            out[f"{prefix}{field.name}"] = value
    return out


def test_every_flag_sets_one_field_and_every_field_has_a_flag_or_a_reason() -> None:
    values = parse()
    names = [name for name in values if name in SETTING_PATHS]
    paths = _leaves(TrainConfig())
    assert sorted(names) == sorted(train_flags.SETTING_NAMES) == sorted(SETTING_PATHS)
    assert set(SETTING_PATHS.values()) | set(NOT_SETTABLE) == set(paths)  # each field: a flag or a reason
    assert not set(SETTING_PATHS.values()) & set(NOT_SETTABLE)
    assert len(set(SETTING_PATHS.values())) == len(SETTING_PATHS)  # one flag per field
    for name in names:
        assert values[name].default == paths[SETTING_PATHS[name]], name  # defaults agree
    assert set(RESUMABLE_CHANGES) <= set(SETTING_PATHS)


# Non-default values where doubling the default would not do.
_OTHER = {"seq_length": 5, "seg_gradient_order": 2, "seg_num_scales": 2, "beta1": 0.5, "beta2": 0.5}


def _other_value(name: str, values: flags.FlagValues) -> object:
    default = values[name].default
    if name in _OTHER:
        return _OTHER[name]
    if isinstance(values[name], flags.EnumFlag):
        return next(choice for choice in values[name].parser.enum_values if choice != default)
    if isinstance(default, bool):
        return not default
    if isinstance(default, (int, float)):
        return default * 2 if default else type(default)(1)
    return "some/where"


def test_each_flag_changes_exactly_its_field() -> None:
    base_argv = ("--img_width=512",)  # a multiple of 64: explain_reg_weight > 0 stays valid
    base = _leaves(train_flags.config_from_flags(parse(*base_argv)))
    for name in SETTING_PATHS:
        value = _other_value(name, parse())
        text = str(value).lower() if isinstance(value, bool) else str(value)
        changed = _leaves(train_flags.config_from_flags(parse(*base_argv, f"--{name}={text}")))
        differing = {path for path in base if base[path] != changed[path]}
        derived = {"data.with_boundary"} if name == "lambda_seg" else set()
        assert differing == {SETTING_PATHS[name]} | derived, name
        assert changed[SETTING_PATHS[name]] == value, name


# The settings that do nothing unless another is as they need: flag -> (needed flag, a value that turns it off,
# one that turns it on).
_NEEDS = {
    "seg_gradient_order": ("lambda_seg", 0.0, 1.0),
    "seg_reduction": ("lambda_seg", 0.0, 1.0),
    "seg_num_scales": ("lambda_seg", 0.0, 1.0),
    "edge_aware_strength": ("edge_aware_smoothness", False, True),
    "flip": ("augment", False, True),
    "per_sample_augment": ("augment", False, True),
    "tfds_data_dir": ("data_source=tfds", "folder", "tfds"),
    "restart_optimizer": ("init_checkpoint_file", None, "some/model-1"),
    "allow_config_change": ("continue_train", False, True),
    "full_epoch_checkpoints": ("max_checkpoints_to_keep", 0, 3),
    "keep_best": ("val_batches", 0, 2),
}


def _declared_needs(path: str) -> str | None:
    owner: object = TrainConfig()
    *heads, name = path.split(".")
    for head in heads:
        owner = getattr(owner, head)
    return setting_of({field.name: field for field in dataclasses.fields(owner)}[name]).needs


def test_a_setting_is_named_idle_exactly_when_the_setting_it_needs_is_off() -> None:
    names = {path: name for name, path in SETTING_PATHS.items()}
    declared = {name for name, path in SETTING_PATHS.items() if _declared_needs(path)}
    assert declared == set(_NEEDS)
    for name in SETTING_PATHS:
        value = _other_value(name, parse())
        if name not in _NEEDS:  # changed alone, a setting that needs nothing is never idle
            assert idle_settings(TrainConfig.from_settings(**{name: value})) == [], name
            continue
        needed, off, on = _NEEDS[name]
        needed_flag = needed.partition("=")[0]
        idle = idle_settings(TrainConfig.from_settings(**{name: value, needed_flag: off}))
        assert [item.describe(names) for item in idle] == [f"{name}={value} does nothing without {needed}"], name
        assert idle_settings(TrainConfig.from_settings(**{name: value, needed_flag: on})) == [], name


def test_a_setting_needing_a_field_no_config_has_is_a_config_error() -> None:
    @dataclasses.dataclass(frozen=True)
    class Broken:
        strength: float = setting(1.0, "Strength.", needs="no_such_switch")

    assert idle_settings(Broken()) == []  # at its default it is never looked up
    with pytest.raises(ConfigError, match=r"Broken\.strength needs 'no_such_switch'"):
        idle_settings(Broken(strength=2.0))


def test_demo_flags_map_onto_the_demo_config() -> None:
    values = flags.FlagValues()
    demo_flags.define_flags(values)
    values(["sfm-demo", "--steps=7", "--img_width=416", "--learning_rate=0.001", "--num_drives=5"])
    config = demo_flags.config_from_flags(values)
    assert config == DemoConfig.from_settings(steps=7, img_width=416, learning_rate=0.001, num_drives=5)
    assert (config.run.max_steps, config.run.data.img_width, config.run.optimizer.learning_rate) == (7, 416, 0.001)
    defaults = flags.FlagValues()
    demo_flags.define_flags(defaults)
    defaults(["sfm-demo"])
    assert demo_flags.config_from_flags(defaults) == DemoConfig()
    bad = flags.FlagValues()
    demo_flags.define_flags(bad)
    with pytest.raises(flags.IllegalFlagValueError, match=r"--img_width=100: TrainConfig: data.img_width must be"):
        bad(["sfm-demo", "--img_width=100"])


def test_a_demo_run_setting_given_wins_over_the_recipes() -> None:
    """The improved recipe sets smooth_weight, which sfm-demo also takes: a --smooth_weight given wins, even one
    equal to the demo's default, and the recipe's other settings still apply."""
    assert DemoConfig().train_config().loss.smooth_weight == 0.05
    assert DemoConfig(recipe="faithful").train_config().loss.smooth_weight == 0.1
    for given in (0.3, 0.1):
        values = flags.FlagValues()
        demo_flags.define_flags(values)
        values(["sfm-demo", f"--smooth_weight={given}"])
        config = demo_flags.config_from_flags(values)
        run = config.train_config()
        assert run.loss.smooth_weight == given and run.loss.depth_smoothness and not run.data.augment
        assert config.recipe_settings() == {name: value for name, value in IMPROVED.items() if name != "smooth_weight"}
    assert DemoConfig.from_settings(smooth_weight=0.2).given_run_settings == ("smooth_weight",)
    assert "(improved: 0.05)" in values["smooth_weight"].help and "recipe" not in values["seed"].help


def test_demo_prints_the_recipe_as_flags() -> None:
    from sfmlearner_tf.apps.demo import _settings_text

    assert _settings_text({"depth_smoothness": True, "augment": False, "smooth_weight": 0.05}) == (
        "--depth_smoothness --noaugment --smooth_weight=0.05")
    assert _settings_text({}) == "the original's settings"


@pytest.mark.parametrize("name", sorted(PAPER_ROWS))
def test_paper_table_presets(name: str) -> None:
    config = train_flags.config_from_flags(parse(f"--flagfile={PRESETS / name}.cfg"))
    lambda_seg, smooth, lr, order, restart = PAPER_ROWS[name]
    assert (config.loss.lambda_seg, config.loss.smooth_weight, config.optimizer.learning_rate) == (lambda_seg, smooth,
                                                                                                    lr)
    assert (config.loss.seg_gradient_order, config.optimizer.restart) == (order, restart)
    assert config.last_step == 35000 and config.data.batch_size == 4 and config.loss.explain_reg_weight == 0
    assert config.init_checkpoint_file.endswith("model-190532") and config.continue_train


def test_baseline_and_demo_presets() -> None:
    baseline = train_flags.config_from_flags(parse(f"--flagfile={PRESETS / 'original_baseline.cfg'}"))
    assert baseline.replace(checkpoint_dir=TrainConfig().checkpoint_dir, continue_train=False) == TrainConfig()
    demo = train_flags.config_from_flags(parse(f"--flagfile={PRESETS / 'cpu_demo.cfg'}"))
    demo = demo.replace(dataset_dir=os.path.normpath(demo.data.dataset_dir),
                        checkpoint_dir=os.path.normpath(demo.checkpoint_dir))
    assert demo == DemoConfig(work_dir="./sfm_demo", recipe="faithful").train_config().replace(progress_every_s=10.0)
    assert len(list(PRESETS.glob("*.cfg"))) == len(PAPER_ROWS) + 5  # + the two Cityscapes -> KITTI stages, improved


def test_improved_preset_holds_the_improved_recipe_switches_and_no_scale_and_crop() -> None:
    """improved.cfg = recipes.IMPROVED; added to the demo's preset it gives the demo's improved run."""
    improved = train_flags.config_from_flags(parse(f"--flagfile={PRESETS / 'improved.cfg'}"))
    assert improved == TrainConfig.from_settings(**IMPROVED)
    assert set(IMPROVED) <= {name for switch in SWITCHES.values() for name in switch} | {"augment", "smooth_weight"}
    assert not improved.data.augment and TrainConfig().data.augment
    assert improved.loss.smooth_weight == 0.05  # half the demo protocol's 0.1
    both = train_flags.config_from_flags(parse(f"--flagfile={PRESETS / 'cpu_demo.cfg'}",
                                               f"--flagfile={PRESETS / 'improved.cfg'}"))
    demo = DemoConfig(work_dir="./sfm_demo", recipe="improved").train_config().replace(progress_every_s=10.0)
    assert both.replace(dataset_dir=demo.data.dataset_dir, checkpoint_dir=demo.checkpoint_dir) == demo


def test_every_recipe_switch_is_off_by_default() -> None:
    default = TrainConfig()
    for switch, settings in SWITCHES.items():
        for name, value in settings.items():
            assert default.setting(name) != value and TrainConfig.from_settings(**settings).setting(name) == value, (
                switch)


def test_cityscapes_then_kitti_presets() -> None:
    """Stage 1 is the original's run on Cityscapes; stage 2 starts from it with a 10x smaller learning rate."""
    stage1 = train_flags.config_from_flags(parse(f"--flagfile={PRESETS / 'cityscapes_pretrain.cfg'}"))
    stage2 = train_flags.config_from_flags(parse(f"--flagfile={PRESETS / 'cityscapes_then_kitti_finetune.cfg'}"))
    assert stage1.replace(checkpoint_dir=TrainConfig().checkpoint_dir, continue_train=False) == TrainConfig()
    assert stage2.optimizer.learning_rate == pytest.approx(stage1.optimizer.learning_rate / 10)
    assert stage2.init_checkpoint_file == stage1.checkpoint_dir and stage2.optimizer.restart
    assert stage2.replace(learning_rate=stage1.optimizer.learning_rate, init_checkpoint_file=None,
                          restart_optimizer=False, checkpoint_dir=stage1.checkpoint_dir) == stage1


def test_network_input_flags_need_multiples_of_16_and_an_odd_seq_length() -> None:
    """The shared check of eval, export and predict: 16-multiples for DispNet, an odd --seq_length >= 3."""
    from absl import flags as absl_flags

    values = _fresh()
    values(["prog", "--seq_length=5", "--img_height=64"])
    assert (values.seq_length, values.img_height) == (5, 64)
    for bad in ("--seq_length=4", "--seq_length=1", "--img_width=100"):
        with pytest.raises(absl_flags.IllegalFlagValueError):
            _fresh()(["prog", bad])


def _fresh():
    """FlagValues with the three network-input flags and their shared checks."""
    from absl import flags as absl_flags

    from flags.validators import register_network_input

    values = absl_flags.FlagValues()
    for name, default in (("img_height", 128), ("img_width", 416), ("seq_length", 3)):
        absl_flags.DEFINE_integer(name, default, "", flag_values=values)
    register_network_input(values)
    return values


def test_override_sets_settings_by_dotted_path_as_the_flat_flags_do() -> None:
    """--override=loss.smooth_weight=0.75,... builds the same config as the flat flags, values read as each
    setting's type; an unknown path, an unreadable value, a bad value and a field set both ways are refused."""
    by_path = train_flags.config_from_flags(parse(
        "--override=loss.smooth_weight=0.75,optimizer.beta2=0.99,data.augment=false,max_steps=7"))
    by_name = train_flags.config_from_flags(parse("--smooth_weight=0.75", "--beta2=0.99", "--noaugment",
                                                  "--max_steps=7"))
    assert by_path == by_name and by_path.loss.smooth_weight == 0.75 and by_path.data.augment is False
    for argv, message in ((["--override=loss.nope=1"], "expected path=value with a settable path"),
                          (["--override=data.batch_size=2.5"], "cannot be read as int"),
                          (["--override=loss.smooth_weight=nan"], "must be a finite number"),
                          (["--smooth_weight=0.2", "--override=loss.smooth_weight=0.75"], "give each one way")):
        with pytest.raises(flags.IllegalFlagValueError, match=message):
            parse(*argv)
