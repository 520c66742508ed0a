"""Where the viewpoint costs a voxel reconstruction its 3D IoU (the per-image numbers quoted in `nbs/20a_voxrecon_train`).

    python tools/voxrecon_views.py runs/ssm_s0 runs/prgan_s0 --data chairs800

For each run, on every held-out image: the 3D IoU aligned with the predicted viewpoint (as `gen3d_nb.voxgan.evaluate`
scores it) and with the true viewpoint (plus the run's global azimuth offset, so the same prediction is scored without
its viewpoint error), overall and by azimuth-error bucket.
"""
import torch
from gen3d_nb.cli import run_cli, cli_param
from gen3d_nb.voxgan.evaluate import load_recon, eval_data, align_to_world, wrap_angle
from gen3d_nb.cameras import unpack_label, ssm_angles
from gen3d_nb.metrics import iou_3d

BUCKETS = ((0, 10), (10, 30), (30, 90), (90, 181))  # azimuth-error buckets (degrees)

@torch.no_grad()
def view_report(ckpt, data, n=None)->str:
    "A markdown table of one run's held-out 3D IoU with the predicted and with the true viewpoints, by azimuth error."
    G, cfg = load_recon(ckpt); G.eval()
    ds, gt = eval_data(cfg, data)
    n = len(ds) if n is None else min(n, len(ds))
    img = torch.stack([ds[i]['img'] for i in range(n)]); m = torch.stack([ds[i]['mask'] for i in range(n)])
    out = G(img, m)
    c2w, _ = unpack_label(ds.labels[:n]); g = gt[ds.object_ids[:n]]; G3 = g.shape[-1]
    az, el, _ = ssm_angles(c2w.double())
    daz = wrap_angle(out['view'][:, 0].double() - az); off = torch.atan2(daz.sin().mean(), daz.cos().mean())
    err = torch.rad2deg(wrap_angle(daz - off)).abs()
    iou = lambda v: iou_3d(align_to_world(out['occ'].float(), v, c2w.double(), G3)[:, 0] >= 0.5, g)
    i_pred = iou(out['view'].double())
    i_true = iou(torch.stack([az + off, el], -1))
    lines = [f'{ckpt}: {n} images, iou3d {float(i_pred.mean()):.3f} with the predicted views, {float(i_true.mean()):.3f} with the true ones',
             '| azimuth error (deg) | images | iou3d (predicted view) | iou3d (true view) |', '|---|---|---|---|']
    for lo, hi in BUCKETS:
        s = (err >= lo) & (err < hi)
        f = lambda x: f'{float(x[s].mean()):.3f}' if s.any() else '-'
        lines.append(f'| {lo}-{min(hi, 180)} | {int(s.sum())} | {f(i_pred)} | {f(i_true)} |')
    return '\n'.join(lines)

def main(ckpts:cli_param('run folders or checkpoints', nargs='+'),
         data:str|None=None, # dataset folder with dataset.json + objects.npz (default: each run's own data)
         n:int|None=None,    # held-out images (default: all)
        ):
    "Per-image held-out 3D IoU of voxel reconstruction runs with the predicted and the true viewpoints, by azimuth error."
    for c in ([ckpts] if isinstance(ckpts, str) else ckpts): print(view_report(c, data, n), end='\n\n')

if __name__ == '__main__': run_cli(main, prog='python tools/voxrecon_views.py')
