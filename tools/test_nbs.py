#!/usr/bin/env python
"""Run every notebook's tests with nbdev_test, one process per notebook, and print a summary.

    python tools/test_nbs.py                 # all notebooks under nbs/ (skips `slow`, `gpu`, `notest` cells)
    python tools/test_nbs.py --flags slow    # also run cells flagged slow
    python tools/test_nbs.py nbs/02_rays.ipynb nbs/03_render.ipynb

Ends with `notebooks: N passed, M failed` and exits non-zero if any notebook failed or none ran."""
import argparse, os, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

def run_one(nb, flags):
    cmd = ['nbdev_test', '--path', str(nb)] + (['--flags', flags] if flags else [])
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, 'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '1')})
    return nb, p.returncode, time.time() - t0, p.stdout + p.stderr

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('paths', nargs='*'); ap.add_argument('--flags', default='')
    ap.add_argument('--workers', type=int, default=2)
    a = ap.parse_args()
    root = Path(__file__).resolve().parent.parent
    nbs = [Path(p) for p in a.paths] or sorted(p for p in (root / 'nbs').rglob('*.ipynb')
                                              if not any(part.startswith(('_', '.')) for part in p.relative_to(root / 'nbs').parts))
    t0 = time.time(); failed = []
    with ThreadPoolExecutor(a.workers) as ex:
        for nb, rc, dt, out in ex.map(lambda n: run_one(n, a.flags), nbs):
            print(f'{"ok  " if rc == 0 else "FAIL"} {dt:6.1f}s  {nb.relative_to(root) if nb.is_absolute() else nb}', flush=True)
            if rc != 0: failed.append(nb); print(out[-6000:], flush=True)
    print(f'total {time.time() - t0:.1f}s')
    print(f'notebooks: {len(nbs) - len(failed)} passed, {len(failed)} failed')
    sys.exit(1 if failed or not nbs else 0)

if __name__ == '__main__': main()
