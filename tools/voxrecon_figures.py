"""Figures of `nbs/20a_voxrecon`: held-out predictions of a run and the learning curves of several runs.

    python tools/voxrecon_figures.py --data chairs800 --pred runs/ssm --curves runs/ssm runs/prgan runs/hologan \
        --names SSM PrGAN HoloGAN --outdir nbs/images

writes voxrecon_predictions.png (rows: input, mask, prediction at the predicted view, four world-aligned views of the
prediction, the same four views of the ground truth) and voxrecon_curves.json (each run's eval.jsonl).
"""
import json, math
from pathlib import Path
import torch
from torchvision.utils import save_image
from fastcore.script import Param
from gen3d_nb.cli import run_cli
from gen3d_nb.voxgan.evaluate import load_recon, eval_data, align_to_world
from gen3d_nb.viz import render_voxels_shaded
from gen3d_nb.cameras import unpack_label

def shaded_voxels(occ, c2w, K, res):
    "Depth-shaded renders of voxels, with the near/far range of the model's cameras (as the training snapshots)."
    rho = c2w[:, :3, 3].norm(dim=-1).mean().item()
    return render_voxels_shaded(occ, c2w, K, res, shading='depth', near=rho - 0.6, far=rho + 0.6)

def predictions(ckpt, data, n=6, res=64):
    G, cfg = load_recon(ckpt)
    ds, gt = eval_data(cfg, data)
    img = torch.stack([ds[i]['img'] for i in range(n)]); m = torch.stack([ds[i]['mask'] for i in range(n)])
    with torch.no_grad():
        out = G(img, m)
        c2w_gt, _ = unpack_label(ds.labels[:n])
        G_v = gt.shape[-1]
        al = align_to_world(out['occ'].float(), out['view'].double(), c2w_gt.double(), G_v)      # (n,1,G,G,G)
        g = gt[ds.object_ids[:n]].float()[:, None]
        c2w, K = G.cameras(out['view'])
        at_view = shaded_voxels(out['occ'], c2w, K, res)
        az = torch.tensor([-3 * math.pi / 4, -math.pi / 4, math.pi / 4, 3 * math.pi / 4])
        cams = G.cameras(torch.stack([az, torch.full_like(az, math.radians(20.))], -1))
        rows = []
        for i in range(n):
            up = lambda x: torch.nn.functional.interpolate(x, size=(res, res), mode='bilinear', align_corners=False)
            rows += [up(img[i:i + 1]).add(1).div(2)[0], up(m[i:i + 1]).expand(-1, 3, -1, -1)[0], at_view[i]]
            rows += list(shaded_voxels(al[i:i + 1].expand(4, -1, -1, -1, -1), *cams, res))
            rows += list(shaded_voxels(g[i:i + 1].expand(4, -1, -1, -1, -1), *cams, res))
    return torch.stack(rows).clamp(0, 1)

def main(data:Param('the dataset the run was trained on (folder or synthetic name)', str, required=True)=None,
         pred:Param('run folder or checkpoint whose held-out predictions are drawn', str, required=True)=None,
         curves:Param('run folders whose eval.jsonl learning curves are gathered', str, nargs='*')=None,
         names:Param('names of those runs (default: their folder names)', str, nargs='*')=None,
         n:int=6,               # held-out images in the figure
         outdir:str='nbs/images', # where the figure and curves go
        ):
    "Write voxrecon_predictions.png (and voxrecon_curves.json) for the 20a_voxrecon notebook."
    out = Path(outdir); out.mkdir(parents=True, exist_ok=True)
    save_image(predictions(pred, data, n), out / 'voxrecon_predictions.png', nrow=11, padding=1, pad_value=1.)
    if curves:
        names = names or [Path(c).name for c in curves]
        cur = {nm: [{k: r[k] for k in ('step', 'iou3d', 'iou3d_canon')} for r in map(json.loads, open(Path(c) / 'eval.jsonl'))]
               for nm, c in zip(names, curves)}
        (out / 'voxrecon_curves.json').write_text(json.dumps(cur, indent=0))
    print('wrote', out / 'voxrecon_predictions.png', *([out / 'voxrecon_curves.json'] if curves else []))

if __name__ == '__main__': run_cli(main)
