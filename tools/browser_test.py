#!/usr/bin/env python
"""The workbook as a student meets it, in a real browser: JupyterLab and the docs site in headless Chromium.

    python tools/browser_test.py               # needs Debian's chromium (apt-get install chromium) and a built site
    python tools/browser_test.py --shots       # also refresh the screenshots (docs/screenshots, nbs/images)

1. Starts JupyterLab on 127.0.0.1 (a free port, a random token, settings in a temporary folder), opens a copy of
   `nbs/21g_pigan_viewer.ipynb` (so nothing is saved into the source; without its `nbdev_export()` cell), runs all
   cells, and checks: no cell output
   is an error; the viewer shows an image, sliders and a status line; a k3d canvas appears and draws; dragging the
   yaw slider changes the image's pixels (it reports the latency from releasing the slider to the new image).
2. Opens three pages of the built site (`python tools/docs.py`): the landing page, `03_render` (equations typeset
   by MathJax, figures loaded) and the viewer page.
3. The browser console must stay clean (no errors, no uncaught exceptions) on every page.
Every server it starts is stopped at the end, also on failure. Exits non-zero on any failed check."""
import argparse, contextlib, functools, http.server, io, json, os, secrets, shutil, signal, socket, subprocess, sys
import tempfile, threading, time, urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NB = ROOT / 'nbs' / '21g_pigan_viewer.ipynb'
SITE = ROOT / '_docs' / 'site'
CHROMIUM = [shutil.which(n) for n in ('chromium', 'chromium-browser')]
# messages the browser prints for resources the test setup does not provide (not errors of the workbook)
IGNORED_CONSOLE = ('favicon.ico',)
# MathJax 2 (served with the site, from jupyter-server-mathjax) probes for its TeX web fonts, which that copy does not
# ship, before it falls back to the STIX-Web fonts it does: those probes fail by design on the docs pages
IGNORED_DOCS = IGNORED_CONSOLE + ('about:blank', '/assets/mathjax/fonts/HTML-CSS/TeX/')

def free_port()->int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@contextlib.contextmanager
def jupyterlab(tmp:Path):
    "JupyterLab on 127.0.0.1 with a random token; yields (base url, token); always stopped."
    port, token = free_port(), secrets.token_hex(16)
    env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(tmp / 'config'), 'JUPYTER_RUNTIME_DIR': str(tmp / 'runtime'),
           'JUPYTERLAB_SETTINGS_DIR': str(tmp / 'settings'), 'JUPYTERLAB_WORKSPACES_DIR': str(tmp / 'workspaces'),
           'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '1')}
    cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', '--ip=127.0.0.1', f'--port={port}',
           f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={ROOT}', '--expose-app-in-browser',
           '--ServerApp.port_retries=0'] + (['--allow-root'] if os.geteuid() == 0 else [])
    notif = tmp / 'settings' / '@jupyterlab' / 'apputils-extension'          # no news or update checks (offline)
    notif.mkdir(parents=True, exist_ok=True)
    (notif / 'notification.jupyterlab-settings').write_text('{"fetchNews": "false", "checkForUpdates": false}')
    log = open(tmp / 'jupyterlab.log', 'w')
    p = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(240):
            if p.poll() is not None: raise RuntimeError(f'JupyterLab exited:\n{(tmp / "jupyterlab.log").read_text()[-3000:]}')
            try:
                urllib.request.urlopen(f'{url}/api/status?token={token}', timeout=2); break
            except OSError: time.sleep(0.5)
        else: raise RuntimeError('JupyterLab did not start in 120 s')
        yield url, token
    finally:
        with contextlib.suppress(ProcessLookupError): os.killpg(p.pid, signal.SIGTERM)
        try: p.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError): os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        log.close()

@contextlib.contextmanager
def static_site(folder:Path):
    "A static file server for the built site on 127.0.0.1; always stopped."
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=str(folder)))
    th = threading.Thread(target=srv.serve_forever, daemon=True); th.start()
    try: yield f'http://127.0.0.1:{srv.server_address[1]}'
    finally: srv.shutdown(); srv.server_close(); th.join(5)

def png_diff(a:bytes, b:bytes)->float:
    "Mean absolute difference of two screenshots, in grey levels (0-255)."
    import numpy as np
    from PIL import Image
    x, y = (np.asarray(Image.open(io.BytesIO(v)).convert('RGB'), dtype=np.float32) for v in (a, b))
    if x.shape != y.shape: return 255.
    return float(np.abs(x - y).mean())

def png_std(a:bytes)->float:
    import numpy as np
    from PIL import Image
    return float(np.asarray(Image.open(io.BytesIO(a)).convert('L'), dtype=np.float32).std())

def save_small(png:bytes, dest:Path, width:int=900):
    "Save a screenshot as a small PNG (at most `width` px wide, 128 colours)."
    from PIL import Image
    im = Image.open(io.BytesIO(png)).convert('RGB')
    if im.width > width: im = im.resize((width, round(im.height * width / im.width)), Image.LANCZOS)
    dest.parent.mkdir(parents=True, exist_ok=True)
    im.quantize(128).save(dest, optimize=True)

class Checks:
    def __init__(self): self.failed, self.console = [], []
    def ok(self, cond, what):
        print(f'{"ok  " if cond else "FAIL"} {what}', flush=True)
        if not cond: self.failed.append(what)
    def watch(self, page, where, ignored=IGNORED_CONSOLE):
        def on_console(m):
            if m.type == 'error' and not any(s in (m.text + str(m.location)) for s in ignored):
                self.console.append(f'{where}: {m.text} ({m.location.get("url", "")})')
        page.on('console', on_console)
        page.on('requestfailed', lambda r: self.console.append(f'{where}: request failed {r.url[:120]} ({r.failure})')
                if not any(s in r.url for s in ignored) and r.failure != 'net::ERR_ABORTED' else None)   # aborted: cancelled by the page
        page.on('pageerror', lambda e: self.console.append(f'{where}: uncaught {e}'))

RUN_STATE = '''() => {
  const nb = window.jupyterapp.shell.currentWidget;
  if (!nb || !nb.content || !nb.content.model) return null;
  const cells = [...nb.content.model.cells].map(c => c.toJSON()).filter(c => c.cell_type === 'code');
  return {busy: nb.sessionContext.session?.kernel?.status !== 'idle' || document.querySelector('.jp-InputPrompt')?.innerText.includes('*')
                 || [...document.querySelectorAll('.jp-InputPrompt')].some(p => p.innerText.includes('[*]')),
          n: cells.length, ran: cells.filter(c => c.execution_count).length,
          errors: cells.flatMap(c => c.outputs.filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue))};
}'''

def test_notebook(pw, c:Checks, url, token, tmp:Path, shots:bool, timeout_s:float):
    copy = NB.with_name('_browser_test_viewer.ipynb')          # `_` prefix: nbdev and the docs ignore it
    nb = json.loads(NB.read_text())                            # without the last cell's nbdev_export(), which rewrites gen3d_nb/
    nb['cells'] = [c for c in nb['cells'] if 'nbdev_export(' not in ''.join(c['source'])]
    copy.write_text(json.dumps(nb))
    browser = None
    try:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=['--no-sandbox', '--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--ignore-gpu-blocklist'])
        page = browser.new_page(viewport={'width': 1400, 'height': 1000})
        c.watch(page, 'jupyterlab')
        page.goto(f'{url}/lab/tree/nbs/{copy.name}?token={token}&reset', timeout=120_000)
        page.wait_for_function('() => window.jupyterapp && window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel?.status === "idle"', timeout=120_000)
        t0 = time.time()
        page.evaluate('() => window.jupyterapp.commands.execute("notebook:run-all-cells")')
        state = None
        while time.time() - t0 < timeout_s:
            time.sleep(1)
            state = page.evaluate(RUN_STATE)
            if state and (state['errors'] or (not state['busy'] and state['ran'] == state['n'])): break
        c.ok(state and state['ran'] == state['n'], f'Run All executed {state and state["ran"]}/{state and state["n"]} code cells in {time.time() - t0:.0f}s')
        c.ok(state and not state['errors'], f'no error outputs {state and state["errors"]}')
        img = page.locator('.widget-image').last
        img.wait_for(timeout=60_000); img.scroll_into_view_if_needed()
        sliders = page.locator('.widget-slider')
        c.ok(sliders.count() >= 5, f'{sliders.count()} sliders (yaw, pitch, fov, psi, seed)')
        status = page.locator('.widget-label', has_text='px in').last
        c.ok(status.count() == 1, f'status line: {status.inner_text() if status.count() else None!r}')
        # k3d: a WebGL canvas that draws something
        canvas = page.locator('.k3d-target canvas, .jp-OutputArea-output canvas').last
        try: canvas.wait_for(timeout=60_000)
        except Exception: pass
        drawn = 0.
        if canvas.count():
            canvas.scroll_into_view_if_needed(); time.sleep(3); drawn = png_std(canvas.screenshot())
        c.ok(canvas.count() > 0 and drawn > 2., f'k3d canvas appears and draws (pixel std {drawn:.1f})')
        # move the yaw slider with the mouse and compare the image's pixels
        img.scroll_into_view_if_needed()
        before, src0 = img.screenshot(), img.get_attribute('src')
        handle = sliders.first.locator('.noUi-handle')
        box = handle.bounding_box()
        page.mouse.move(box['x'] + box['width'] / 2, box['y'] + box['height'] / 2); page.mouse.down()
        page.mouse.move(box['x'] + box['width'] / 2 + 70, box['y'] + box['height'] / 2, steps=8)
        t = time.perf_counter(); page.mouse.up()
        page.wait_for_function('([el, s]) => el.getAttribute("src") !== s', arg=[img.element_handle(), src0], timeout=30_000, polling=10)
        latency = 1000 * (time.perf_counter() - t)
        time.sleep(0.3); after = img.screenshot()
        d = png_diff(before, after)
        c.ok(d > 2., f'dragging the yaw slider changes the image (mean pixel difference {d:.1f} of 255)')
        print(f'slider latency: {latency:.0f} ms from release to the new image in the browser '
              f'(kernel status line: {status.inner_text() if status.count() else "?"})', flush=True)
        c.latency = latency
        if shots:
            page.locator('.jp-OutputArea-output').filter(has=img).last.scroll_into_view_if_needed()
            save_small(page.locator('.jp-OutputArea-output').filter(has=img).last.screenshot(), ROOT / 'nbs' / 'images' / 'pigan_viewer.png', 700)
            save_small(page.screenshot(), ROOT / 'docs' / 'screenshots' / 'jupyterlab_viewer.png')
        page.evaluate('() => window.jupyterapp.commands.execute("kernelmenu:shutdown")')
        time.sleep(1)
    finally:
        if browser: browser.close()
        copy.unlink(missing_ok=True)
        shutil.rmtree(copy.parent / '.ipynb_checkpoints' / f'{copy.stem}-checkpoint.ipynb', ignore_errors=True)
        (copy.parent / '.ipynb_checkpoints' / f'{copy.stem}-checkpoint.ipynb').unlink(missing_ok=True)

def test_site(pw, c:Checks, base:str, shots:bool):
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=['--no-sandbox'])
    try:
        page = browser.new_page(viewport={'width': 1280, 'height': 900})
        c.watch(page, 'docs', IGNORED_DOCS)
        for name, shot in [('index', 'landing.png'), ('03_render', '03_render.png'), ('21g_pigan_viewer', 'viewer.png')]:
            r = page.goto(f'{base}/{name}.html', wait_until='networkidle')
            c.ok(r is not None and r.ok, f'docs {name}.html loads ({r.status if r else None})')
            title = page.title()
            cells = page.locator('.jp-Cell').count()
            imgs = page.evaluate('() => [...document.querySelectorAll(".jp-Notebook img, article img")].map(i => i.complete && i.naturalWidth > 0)')
            c.ok(cells > 3 and all(imgs), f'docs {name}: {cells} cells, {sum(imgs)}/{len(imgs)} images loaded ({title!r})')
            if name == '03_render':
                page.wait_for_function('() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0 && document.querySelectorAll(".MathJax_CHTML, .MathJax").length > 0', timeout=60_000)
                n = page.locator('.MathJax_CHTML, .MathJax').count()
                c.ok(n > 5, f'docs 03_render: {n} equations typeset by MathJax')
            if shots:
                if name == '03_render':                 # a figure with the equations above it
                    page.locator('.jp-OutputArea-output img').first.evaluate('e => e.scrollIntoView({block: "end"})'); time.sleep(0.5)
                elif name == '21g_pigan_viewer':
                    page.locator('h2', has_text='The trained car').first.scroll_into_view_if_needed(); time.sleep(0.5)
                else: time.sleep(0.5)
                save_small(page.screenshot(), ROOT / 'docs' / 'screenshots' / shot)
    finally: browser.close()

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--shots', action='store_true', help='refresh the screenshots (docs/screenshots, nbs/images/pigan_viewer.png)')
    ap.add_argument('--timeout', type=float, default=300., help='seconds for Run All')
    ap.add_argument('--skip-docs', action='store_true', help='only the JupyterLab part')
    ap.add_argument('--skip-lab', action='store_true', help='only the docs part')
    a = ap.parse_args()
    global CHROMIUM
    CHROMIUM = next((p for p in CHROMIUM if p), None)
    if not CHROMIUM: sys.exit('FAIL: no chromium found (apt-get install -y chromium)')
    if not a.skip_docs and not (SITE / 'index.html').exists(): sys.exit('FAIL: build the site first: python tools/docs.py')
    from playwright.sync_api import sync_playwright
    c, t0 = Checks(), time.time()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        try:
            if a.skip_lab: raise StopIteration
            with jupyterlab(Path(tmp)) as (url, token):
                test_notebook(pw, c, url, token, Path(tmp), a.shots, a.timeout)
        except StopIteration: pass
        except Exception as e:
            c.ok(False, f'JupyterLab test raised {type(e).__name__}: {e}')
            log = Path(tmp) / 'jupyterlab.log'
            if log.exists(): print(log.read_text()[-3000:])
        if not a.skip_docs:
            try:
                with static_site(SITE) as base: test_site(pw, c, base, a.shots)
            except Exception as e: c.ok(False, f'docs test raised {type(e).__name__}: {e}')
    c.ok(not c.console, f'browser console clean {c.console[:10]}')
    print(f'browser test: {"FAILED " + str(len(c.failed)) + " check(s)" if c.failed else "passed"} in {time.time() - t0:.0f}s'
          + (f'; slider latency {c.latency:.0f} ms' if hasattr(c, 'latency') else ''))
    sys.exit(1 if c.failed else 0)

if __name__ == '__main__': main()
