#!/usr/bin/env python
"""Benchmark the gen3d_nb training engine: iterations/s, images/s and peak memory per preset.

For each preset the family's models, optimisers and dataset are built exactly as `fit` builds them
(`gen3d_nb.train.make_context`), batches come from the engine's step-indexed sampler, and
`gen3d_nb.train.run_step` (learning rates, micro-batches through the family's `train_step`, EMA update) is
timed in-process: `--warmup` steps first, then `--steps` timed steps. No checkpoints, snapshots or logs
are written, so the numbers are those of the loop itself.

    python bench/train.py                                   # prgan, presets tiny and demo, CUDA if present
    python bench/train.py --model prgan --presets tiny,demo --steps 20 --cpu
    PYTHONPATH=/tmp/gen3d_nb_toy python bench/train.py --model toy_family --cpu   # the 08_train notebook's toy

Each preset runs in a fresh subprocess so that its peak memory is its own. Peak memory: on CUDA,
torch.cuda.max_memory_allocated over warm-up + timed steps; on CPU, the process's peak resident set size
(resource.getrusage ru_maxrss, which includes the Python interpreter and torch, about 300-400 MB by itself).
"""
import argparse, dataclasses, json, os, resource, subprocess, sys, time
import torch

def sync(device):
    if device.type == 'cuda': torch.cuda.synchronize(device)

def bench_one(model:str, preset:str, steps:int, warmup:int, cpu:bool, overrides:list)->dict:
    "Time `steps` engine steps of `model`/`preset` after `warmup` steps; returns a row of the table."
    from gen3d_nb.core import get_device
    from gen3d_nb.train import get_config, apply_overrides, check_config, make_context, run_step, step_indices, _to
    cfg = apply_overrides(get_config(model, preset), overrides)
    cfg = check_config(dataclasses.replace(cfg, iters=max(cfg.iters, warmup + steps), run=dataclasses.replace(cfg.run, progress=False, tensorboard=False)))
    device = get_device(cpu)
    if device.type == 'cuda': torch.cuda.reset_peak_memory_stats(device)
    ctx = make_context(cfg, device)
    ds = ctx.family.make_dataset(cfg)
    collate = torch.utils.data.default_collate
    batch_of = lambda t: _to(collate([ds[i] for i in step_indices(len(ds), cfg, t)]), device)
    for t in range(warmup): run_step(ctx, batch_of(t))
    sync(device)
    # Batches are loaded outside the timed region: this measures the step, not the data pipeline.
    batches = [batch_of(t) for t in range(warmup, warmup + steps)]
    sync(device); t0 = time.perf_counter()
    for b in batches: run_step(ctx, b)
    sync(device); dt = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated(device) if device.type == 'cuda' else \
           resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # ru_maxrss is in KiB on Linux
    return dict(model=model, preset=preset, device=str(device), batch=cfg.batch, accum=cfg.accum, steps=steps,
                it_s=steps / dt, img_s=steps * cfg.batch / dt, ms_step=1000 * dt / steps, peak_mb=peak / 2**20,
                mem='cuda max_allocated' if device.type == 'cuda' else 'peak RSS')

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--model', default='prgan', help='family (key of gen3d_nb.train.MODELS or a family module path)')
    p.add_argument('--presets', default='tiny,demo', help='comma-separated preset names')
    p.add_argument('--steps', type=int, default=20, help='timed steps')
    p.add_argument('--warmup', type=int, default=3, help='untimed steps first')
    p.add_argument('--cpu', action='store_true', help='use the CPU even if CUDA is present')
    p.add_argument('--set', action='append', default=[], help='config override key=value, dotted for sub-configs (repeatable)')
    p.add_argument('--one', default=None, help=argparse.SUPPRESS)  # internal: run one preset, print a JSON row
    a = p.parse_args(argv)
    if a.one is not None:
        print(json.dumps(bench_one(a.model, a.one, a.steps, a.warmup, a.cpu, a.set))); return
    rows = []
    for preset in a.presets.split(','):
        cmd = [sys.executable, __file__, '--model', a.model, '--one', preset, '--steps', str(a.steps), '--warmup', str(a.warmup)]
        cmd += ['--cpu'] * a.cpu + sum((['--set', s] for s in a.set), [])
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            last = (r.stderr.strip().splitlines() or ['?'])[-1]
            print(f'{a.model}/{preset} failed: {last}', file=sys.stderr); rows.append(dict(model=a.model, preset=preset, failed=last)); continue
        rows.append(json.loads(r.stdout.strip().splitlines()[-1]))
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}")
    print(f"{'model':<12} {'preset':<8} {'device':<7} {'batch':>5} {'it/s':>8} {'img/s':>9} {'ms/step':>8} {'peak MB':>8}  memory")
    for r in rows:
        if 'failed' in r: print(f"{r['model']:<12} {r['preset']:<8} failed (see above)"); continue
        print(f"{r['model']:<12} {r['preset']:<8} {r['device']:<7} {r['batch']:>5} {r['it_s']:>8.2f} {r['img_s']:>9.1f} "
              f"{r['ms_step']:>8.1f} {r['peak_mb']:>8.0f}  {r['mem']}")

if __name__ == '__main__': main()
