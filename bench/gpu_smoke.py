#!/usr/bin/env python
"""Smoke test and figures for every family on the device at hand: 20 steps of each `tiny` preset, then the renderer benchmark.

On a CUDA machine each family trains with AMP (`--set amp=true`); without one, on the CPU (AMP is CUDA-only and ignored there).
Each family runs in a fresh process through `bench/train.py` (the engine's `make_context` + `run_step`, no checkpoints or logs), so
its peak memory is its own; then `bench/render.py` times the shared ray renderer. Prints steps/s and peak memory per family and
exits non-zero if any family failed, so CI runs it on CPU and a GPU session runs the same command.

    python bench/gpu_smoke.py                 # CUDA + AMP when present, else CPU
    python bench/gpu_smoke.py --cpu --steps 5
"""
import argparse, json, os, subprocess, sys, time
from pathlib import Path
import torch

HERE = Path(__file__).resolve().parent

def family_row(model:str, steps:int, warmup:int, cpu:bool, amp:bool)->dict:
    "Run bench/train.py for one family's tiny preset in a fresh process; its JSON row, or {'failed': last line}."
    cmd = [sys.executable, str(HERE / 'train.py'), '--model', model, '--one', 'tiny', '--steps', str(steps), '--warmup', str(warmup)]
    cmd += ['--cpu'] * cpu + ['--set', 'amp=true'] * amp
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0: return dict(model=model, failed=(r.stderr.strip().splitlines() or ['?'])[-1])
    return json.loads(r.stdout.strip().splitlines()[-1])

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--steps', type=int, default=20, help='timed steps per family')
    p.add_argument('--warmup', type=int, default=2, help='untimed steps first')
    p.add_argument('--cpu', action='store_true', help='use the CPU even if CUDA is present')
    p.add_argument('--models', default='', help='comma-separated families (default: every family in gen3d_nb.train.MODELS)')
    a = p.parse_args(argv)
    from gen3d_nb.train import MODELS
    cuda = torch.cuda.is_available() and not a.cpu
    models = a.models.split(',') if a.models else sorted(MODELS)
    where = torch.cuda.get_device_name(0) if cuda else f'CPU, {torch.get_num_threads()} threads'
    print(f'gen3d_nb smoke: torch {torch.__version__}, {where}, AMP {"on" if cuda else "off (CPU)"}, {a.steps} steps of each tiny preset')
    print(f"{'family':<10} {'device':<8} {'batch':>5} {'steps/s':>8} {'ms/step':>8} {'peak MB':>8}  memory")
    failed, t0 = [], time.time()
    for m in models:
        r = family_row(m, a.steps, a.warmup, not cuda, cuda)
        if 'failed' in r: failed.append(m); print(f"{m:<10} FAILED: {r['failed']}"); continue
        print(f"{m:<10} {r['device']:<8} {r['batch']:>5} {r['it_s']:>8.2f} {r['ms_step']:>8.1f} {r['peak_mb']:>8.0f}  {r['mem']}", flush=True)
    print(f'families: {time.time() - t0:.0f} s')
    render = [sys.executable, str(HERE / 'render.py'), '--device', 'cuda' if cuda else 'cpu', '--res', '128' if cuda else '64', '--repeats', '3']
    r = subprocess.run(render, capture_output=True, text=True)
    print(r.stdout.strip() if r.returncode == 0 else f'render benchmark FAILED: {(r.stderr.strip().splitlines() or ["?"])[-1]}')
    if r.returncode != 0: failed.append('render')
    if failed: sys.exit(f'gpu_smoke: failed: {", ".join(failed)}')

if __name__ == '__main__': main()
