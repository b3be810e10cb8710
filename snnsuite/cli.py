"""`snn`: the suite's command line. Exit codes: 0 success, 1 unexpected error, 2 bad input,
3 training diverged (the last good checkpoint is kept)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import SuiteError

DEFAULT_RUNS = Path("runs")
REFERENCE_RUNS = Path(__file__).resolve().parent.parent / "figures" / "runs"


def progress_bar(iterable=None, **kwargs):
    from tqdm.auto import tqdm

    return tqdm(iterable, leave=False, dynamic_ncols=True, **kwargs)


def _add_data_dir(p):
    p.add_argument("--data-dir", help="folder holding mnist/ and fashion-mnist/ (default: $SNN_DATA_DIR, else ~/.cache/snn-suite/datasets)")


def build_parser() -> argparse.ArgumentParser:
    from .data import DATASETS
    from .methods import METHODS

    parser = argparse.ArgumentParser(prog="snn", description="Spiking neural network research suite: Brian2 plasticity networks and torch SNNs on shared data and run records.")
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="fetch or verify datasets")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    for name, text in (("check", "verify magic numbers, sizes, labels and checksums"), ("fetch", "download from the canonical locations, verify, store atomically")):
        p = data_sub.add_parser(name, help=text)
        p.add_argument("--dataset", help=f"one of {', '.join(DATASETS)} (default: all)")
        _add_data_dir(p)

    train = sub.add_parser("train", help="train one method; resumes an interrupted run with the same config")
    train.add_argument("method", help=f"one of {', '.join(METHODS)}")
    train.add_argument("--preset", help="a named paper experiment of the method (see --list-presets)")
    train.add_argument("--list-presets", action="store_true", help="list the method's presets and exit")
    train.add_argument("--dataset", help=f"one of {', '.join(DATASETS)}")
    train.add_argument("--epochs", type=int)
    train.add_argument("--train-samples", type=int, help="use the first N training samples")
    train.add_argument("--validation-samples", type=int)
    train.add_argument("--test-samples", type=int)
    train.add_argument("--seed", type=int)
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="any config value, e.g. --set hidden=500,500")
    train.add_argument("--finish", action="store_true", help="train no further: test the best validated epoch of a stopped run and write its summary")
    train.add_argument("--show-config", action="store_true", help="print the resolved config with the reason for each value and exit")
    train.add_argument("--runs-dir", type=Path, default=DEFAULT_RUNS, help="root of run records (default: ./runs)")
    train.add_argument("--run-name", help="run folder name (default: <preset or custom>-seed<seed>)")
    _add_data_dir(train)

    compare = sub.add_parser("compare", help="markdown table of recorded runs against the papers")
    compare.add_argument("--runs-dir", type=Path, default=REFERENCE_RUNS)
    compare.add_argument("--update-readme", type=Path, metavar="README", help="replace the README's results table")

    figures = sub.add_parser("figures", help="regenerate every figure from recorded runs (no training)")
    figures.add_argument("--runs-dir", type=Path, default=REFERENCE_RUNS)
    figures.add_argument("--out", type=Path, default=Path("figures/out"))

    bench = sub.add_parser("bench", help="run a benchmark and save figures/runs/bench/<name>.json")
    bench.add_argument("name", help="bio-engine, bio-glsnn, bio-balanced, hybrid-ide-memory, hybrid-ide-gradient, hybrid-lif (needs figures/bench_env.sh), "
                            "glsnn-tsne, gpu (a GPU machine; scripts/gpu-check.sh) or reference-linear")
    bench.add_argument("--out-dir", type=Path, default=REFERENCE_RUNS / "bench")
    bench.add_argument("--samples", type=int, default=None, help="samples per measurement")
    _add_data_dir(bench)

    demo = sub.add_parser("demo", help="train GLSNN (bio) and STBP (hybrid) on a slice of MNIST and compare them")
    demo.add_argument("--train-samples", type=int, default=5000)
    demo.add_argument("--test-samples", type=int, default=2000)
    demo.add_argument("--runs-dir", type=Path, default=DEFAULT_RUNS / "demo")
    _add_data_dir(demo)
    return parser


def cmd_data(args) -> int:
    from . import data

    names = [data.check_name(args.dataset)] if args.dataset else list(data.DATASETS)
    for name in names:
        if args.data_command == "fetch":
            folder = data.fetch(name, args.data_dir, progress=progress_bar)
            print(f"{name}: stored and verified in {folder}")
        else:
            counts = data.check(name, args.data_dir)
            print(f"{name}: ok ({sum(counts.values())} training labels; per class {list(counts.values())})")
    return 0


def resolve_config(args):
    from . import methods
    from .config import parse_assignments

    method = methods.get(args.method)
    config_class, make_learner, presets = method.load()
    values = {}
    if args.preset:
        if args.preset not in presets:
            raise SuiteError(f"preset '{args.preset}': unknown for {args.method}; known: {', '.join(presets) or 'none'}")
        values.update(presets[args.preset])
    for key in ("dataset", "epochs", "train_samples", "validation_samples", "test_samples", "seed"):
        if getattr(args, key, None) is not None:
            values[key] = getattr(args, key)
    config = config_class.from_dict(values).with_overrides(parse_assignments(args.set))
    return method, config, make_learner, presets


def run_training(method, config, make_learner, data_dir, run_dir: Path, log=print, finish: bool = False) -> dict:
    from . import data, training

    validation_size = data.DEFAULT_VALIDATION_SIZE if config.hold_out_validation else 0
    dataset = data.load(config.dataset, data_dir, validation_size)  # bad data fails before any model is built
    learner = make_learner(config)
    log(f"training {method.id} ({method.side}) on {config.dataset} -> {run_dir}")
    return training.train(method.id, method.side, config, dataset, learner, run_dir, progress=progress_bar, log=log,
                          finish=finish)


def run_directory(root: Path, method, config, name: str) -> Path:
    return root / method.side / method.id / config.dataset / name


def cmd_train(args) -> int:
    from .config import describe

    method, config, make_learner, presets = resolve_config(args)
    if args.list_presets:
        for name, values in presets.items():
            print(f"{name}: {values}")
        return 0
    if args.show_config:
        print(describe(config))
        return 0
    name = args.run_name or f"{args.preset or 'custom'}-seed{config.seed}"
    summary = run_training(method, config, make_learner, args.data_dir, run_directory(args.runs_dir, method, config, name),
                           finish=args.finish)
    validation = summary["validation_accuracy"]
    chosen = f"validation {validation:.2f}%" if validation is not None else "last epoch, no hold-out"
    print(f"test accuracy {summary['test_accuracy']:.2f}% ({chosen}, {summary['epochs']} epochs, {summary['train_seconds']:.1f} s)")
    return 0


def cmd_compare(args) -> int:
    from .compare import table, update_readme

    text = table(args.runs_dir)
    if args.update_readme:
        update_readme(args.update_readme, text)
    print(text)
    return 0


def cmd_figures(args) -> int:
    from figures.make import make_all

    for path in make_all(args.runs_dir, args.out):
        print(path)
    return 0


def cmd_bench(args) -> int:
    from figures.bench import run_benchmark

    run_benchmark(args.name, args.out_dir, args.data_dir, args.samples)
    return 0


def cmd_demo(args) -> int:
    from . import data, methods
    from .compare import runs_table

    data.ensure("mnist", args.data_dir, progress=progress_bar)

    for method_id, overrides in (("glsnn", dict(hidden=(500,), epochs=1, chunk_samples=1000, optimizer="adam", eta_w=1e-3)),
                                 ("stbp", dict(hidden=(500,), epochs=1, time_steps=8))):
        method = methods.get(method_id)
        config_class, make_learner, _ = method.load()
        config = config_class.from_dict(dict(dataset="mnist", train_samples=args.train_samples, validation_samples=1000,
                                             test_samples=args.test_samples, **overrides))
        run_training(method, config, make_learner, args.data_dir, run_directory(args.runs_dir, method, config, "demo"))
    print(runs_table(args.runs_dir))
    return 0


COMMANDS = {"data": cmd_data, "train": cmd_train, "compare": cmd_compare, "figures": cmd_figures,
            "bench": cmd_bench, "demo": cmd_demo}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except SuiteError as err:
        print(f"snn: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("snn: interrupted; the last checkpoint is kept, run the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
