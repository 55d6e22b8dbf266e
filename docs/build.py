#!/usr/bin/env python3
"""Build solarnb's documentation website offline, from the notebooks in `nbs/`.

    python docs/build.py            # from the repository root; writes docs/_build/html
    python docs/build.py --help     # options (parallel jobs, cache, slow cells, ...)

Quarto (what `nbdev_docs` uses) cannot be installed on these machines, so this script does the same job
with Sphinx:

1. execute each notebook in its own process with execnb's in-process shell, exactly as `solarnb test` and
   nbdev_test do (cwd = `nbs/`, `IN_TEST=1`, the same skipped cells), `-j` at a time, longest first; figures
   inline as PNG, warnings and dask/tornado logging silenced, a static picture of each widget recorded. A
   notebook that fails is reported and shown up to the failing cell. `solarnb test --save` runs the test suite
   with this same executor and leaves the executed notebooks where this step finds them;
2. process the executed notebooks with nbdev's own processors (what `proc_nbs` runs: `show_doc` cells after
   exported definitions, `#| hide` / `#| export` cells removed, front matter), all in one process, with
   nbdev's `exec_show_docs` (which re-ran every notebook's definitions) replaced by `apidoc.render` on the
   module's own objects: classes with their methods, properties and dataclass fields;
3. turn them into plain notebooks that myst-nb renders: front matter -> `# Title` + `> description`,
   `#| echo: false` -> tag `remove-input`, show_doc output -> markdown (a heading and anchor per name),
   nbdev's links to the published site -> links between the local pages (a link to an undocumented name
   becomes plain code), outputs without logs, tracebacks or machine paths, widgets as a note and picture;
4. build HTML with Sphinx + myst-nb + pydata-sphinx-theme, with a local MathJax (fetched once with
   `npm pack mathjax@3` into `docs/_mathjax/`), and write the highlighted source pages
   (`_modules/solarnb/*.html`, line anchors `#L-n`) that every "source" link points to.

Intermediate files live in `docs/_nbs/` (git-ignored); executed notebooks are cached there and reused while
neither the notebook nor any `solarnb/*.py` changed (`--force` re-runs them); the plain notebooks are
rewritten only when they change, so Sphinx rebuilds only changed pages.
"""
from __future__ import annotations
import argparse, concurrent.futures as cf, hashlib, json, multiprocessing as mp, os, re, shutil, subprocess
import sys, tarfile, tempfile, time, traceback
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
NBS = ROOT/'nbs'
WORK = DOCS/'_nbs'
MATHJAX = DOCS/'_mathjax'
EXEC_VERSION = '5'  # bump to invalidate the execution cache when the execution step changes

def log(*a): print(*a, flush=True)

# ----------------------------------------------------------------------------------------------------------
# notebooks and cell directives

def notebooks(names=None) -> list[Path]:
    "The notebooks of the site: index first, then the others in file-name order."
    nbs = [p for p in sorted(NBS.glob('*.ipynb')) if not p.name.startswith(('_', '.'))]
    if names: nbs = [p for p in nbs if p.stem in names or p.name in names]
    return sorted(nbs, key=lambda p: (p.stem != 'index', p.name))

_re_dir = re.compile(r'^\s*#\s*\|\s*([\w-]+)\s*(:?)\s*(.*?)\s*$')

def directives(src: str) -> tuple[dict, str]:
    "The `#| name: value` directives at the top of a code cell's source, and the source without them."
    d, lines = {}, src.splitlines()
    i = 0
    for i, line in enumerate(lines):
        m = _re_dir.match(line)
        if not m:
            if line.strip() == '': continue
            break
        d[m.group(1).lower()] = m.group(3)
    else: i = len(lines)
    rest = [l for l in lines[i:]]
    # directives may be followed by blank lines before code; they are all at the top
    return d, '\n'.join(rest).strip('\n')

def _src(cell) -> str:
    s = cell.get('source', '')
    return ''.join(s) if isinstance(s, list) else (s or '')

def tst_flags() -> set:
    try:
        import configparser
        c = configparser.ConfigParser(); c.read(ROOT/'settings.ini')
        return set(c['DEFAULT'].get('tst_flags', '').split())
    except Exception: return set()

def skip_reason(src: str, skip_flags: set) -> str | None:
    "Why a code cell must not run for the docs, or None."
    if re.search(r'nbdev(\.\w+)*\.nbdev_export\s*\(|^\s*nbdev_export\s*\(', src, re.M):
        return 'nbdev_export'  # would rewrite solarnb/*.py from the notebooks other people are editing
    d, _ = directives(src)
    if d.get('eval', '').lower() == 'false': return 'eval: false'
    flags = set(d) & skip_flags
    if flags: return f'flag {sorted(flags)[0]}'
    return None

# ----------------------------------------------------------------------------------------------------------
# 1. execution: in-process with execnb's CaptureShell, as `solarnb test` and nbdev_test run the notebooks

EXEC_ENV = {
    'IN_TEST': '1',                                   # what nbdev_test sets: the notebooks run as in the test suite
    'TQDM_DISABLE': '1',                              # no progress bars in pages
    'PYTHONWARNINGS': 'ignore',                       # nor warnings (dask workers inherit this)
    'DASK_DISTRIBUTED__LOGGING__DISTRIBUTED': 'error',  # no scheduler/worker INFO lines
    'DASK_DISTRIBUTED__LOGGING__TORNADO': 'critical',
    'DASK_DISTRIBUTED__ADMIN__LOG_LENGTH': '0',
    'PYDEVD_DISABLE_FILE_VALIDATION': '1',
}

# Run first in every shell: figures as PNG at a fixed size, logging of dask/tornado/asyncio at ERROR and above
# (a cluster shutting down logs CommClosedError tracebacks otherwise), warnings off.
SETUP = r"""
import logging as _l, warnings as _w
_w.filterwarnings('ignore')
for _n in ('distributed', 'tornado', 'asyncio', 'bokeh'):
    _l.getLogger(_n).setLevel(_l.CRITICAL if _n in ('tornado', 'asyncio') else _l.ERROR)
get_ipython().run_line_magic('config', "InlineBackend.rc = {'figure.dpi': 110}")
del _l, _w, _n
"""

def code_key() -> str:
    "Hash of everything outside a notebook that its outputs depend on: the library and this step's version."
    h = hashlib.sha256(EXEC_VERSION.encode())
    for p in sorted((ROOT/'solarnb').rglob('*.py')):
        h.update(str(p.relative_to(ROOT)).encode()); h.update(p.read_bytes())
    return h.hexdigest()

def nb_key(path: Path, lib_key: str, skip_flags) -> str:
    "The cache key of notebook `path`'s executed outputs: its cells' sources, the library, the skipped flags."
    nb = json.loads(Path(path).read_text())
    srcs = [(c['cell_type'], _src(c)) for c in nb['cells']]
    return hashlib.sha256(json.dumps([srcs, lib_key, sorted(skip_flags)]).encode()).hexdigest()

def widget_html(w) -> str:
    "A static picture (disabled HTML controls) of ipywidget `w` in its current state."
    import html as H
    import ipywidgets as W
    desc = H.escape(getattr(w, 'description', '') or '')
    lab = f'<label>{desc}</label> ' if desc else ''
    if isinstance(w, W.Output): return ''
    if isinstance(w, W.Box):
        d = 'row' if isinstance(w, W.HBox) else 'column'
        kids = ''.join(widget_html(c) for c in w.children)
        return f'<div class="sn-wbox" style="display:flex;flex-direction:{d};gap:.3rem 1rem">{kids}</div>'
    v = getattr(w, 'value', None)
    if isinstance(w, (W.HTML, W.HTMLMath)): return f'<div>{v}</div>'
    if isinstance(w, W.Label): return f'<div>{H.escape(str(v))}</div>'
    if isinstance(w, W.Button): return f'<button disabled>{desc}</button>'
    if isinstance(w, (W.Checkbox, W.ToggleButton)):
        return f'<div>{lab}<input type="checkbox" disabled{" checked" if v else ""}></div>'
    if hasattr(w, 'options') and hasattr(w, 'label'):
        if isinstance(w, W.SelectionSlider):
            n = max(0, len(w.options) - 1)
            return (f'<div>{lab}<input type="range" disabled min="0" max="{n}" value="{w.index or 0}"> '
                    f'<span>{H.escape(str(w.label))}</span></div>')
        opts = ''.join(f'<option{" selected" if o == w.label else ""}>{H.escape(str(o))}</option>'
                       for o in (w._options_labels if hasattr(w, '_options_labels') else []))
        return f'<div>{lab}<select disabled>{opts}</select></div>'
    if hasattr(w, 'min') and hasattr(w, 'max') and not isinstance(v, (tuple, list)) and 'Slider' in type(w).__name__:
        fmt = getattr(w, 'readout_format', '') or ''
        try: txt = format(v, fmt.lstrip('%')) if fmt else str(v)
        except (ValueError, TypeError): txt = str(v)
        return (f'<div>{lab}<input type="range" disabled min="{w.min}" max="{w.max}" step="{getattr(w, "step", 1)}" '
                f'value="{v}"> <span>{H.escape(txt)}</span></div>')
    if isinstance(v, (tuple, list)): return f'<div>{lab}<span>{H.escape(", ".join(map(str, v)))}</span></div>'
    if v is not None: return f'<div>{lab}<input type="text" disabled value="{H.escape(str(v))}"></div>'
    return f'<div>{lab}</div>'

WIDGET_MIME = 'application/vnd.jupyter.widget-view+json'

def _picture_widgets(cell):
    "After a cell ran: give each widget output a static HTML picture of the control, for the site."
    try:
        from ipywidgets.widgets import widget as _wmod
        instances = getattr(_wmod, '_instances', None) or _wmod.Widget.widgets
    except Exception: return
    for o in cell.get('outputs', []) or []:
        data = o.get('data') or {}
        mid = (data.get(WIDGET_MIME) or {}).get('model_id')
        if not mid or mid not in instances: continue
        try: data['text/html'] = widget_html(instances[mid])
        except Exception as e: data['text/html'] = f'<!-- widget picture failed: {type(e).__name__} -->'

def execute_notebook(src, dst, skip_flags=(), key: str = '', force_flags=(), show_tb: bool = False) -> dict:
    """Execute notebook `src` in this process (execnb, cwd = its folder), as nbdev's `test_nb` does, and
    write it with its outputs to `dst`. Returns dict(ok, error, seconds, skipped). Used by `build.py` and,
    through `solarnb test --save`, by the test run, so one run gives the tests and the pages."""
    os.environ.update(EXEC_ENV)
    src, t0 = Path(src).resolve(), time.time()
    import warnings
    warnings.filterwarnings('ignore')
    for p in (str(ROOT),):
        if p not in sys.path: sys.path.insert(0, p)
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    from nbdev.process import NBProcessor
    from nbdev.frontmatter import FrontmatterProc
    from fastcore.xtras import working_directory
    flags = set(skip_flags) - set(force_flags)
    nb = NBProcessor(src, procs=FrontmatterProc, process=True).nb
    skipped = []
    def no_eval(cell):
        if cell.cell_type != 'code': return True
        cell.outputs, cell.execution_count = [], None
        direc = getattr(cell, 'directives_', {}) or {}
        if ('nbdev_export' + '(' in cell.source or direc.get('eval:', [''])[0].lower() == 'false'
                or flags & direc.keys()):
            skipped.append(cell.idx_); return True
        return False
    info = dict(name=src.name, ok=True, error=None)
    fm = getattr(nb, 'frontmatter_', {}) or {}
    if str(fm.get('skip_exec', '')).lower() in ('true', '1', 'yes'): info['error'] = 'skip_exec'
    else:
        k = CaptureShell(src, mpl_format='png')
        k.run_cell(SETUP)
        try:
            with working_directory(src.parent): k.run_all(nb, exc_stop=True, preproc=no_eval, postproc=_picture_widgets)
        except BaseException as e:
            info['ok'] = False
            if show_tb: sys.stderr.write(k.prettytb(fname=src) + '\n')
            bad = next((c for c in nb.cells if any(o.get('output_type') == 'error' for o in c.get('outputs') or [])), None)
            first = (bad.source.strip().splitlines() or [''])[-1][:120] if bad is not None else ''
            info['error'] = (f'cell {bad.idx_}: {first}\n    ' if bad is not None else '') + f'{type(e).__name__}: {e}'[:400]
    info['seconds'] = round(time.time() - t0, 1)
    info['skipped'] = len(skipped)
    raw = read_nb(src)   # the notebook as written (nbdev's reader took the directives off the sources)
    for c in nb.cells:
        if c.cell_type == 'code' and c.idx_ < len(raw.cells):
            raw.cells[c.idx_]['outputs'] = c.get('outputs', [])
            raw.cells[c.idx_]['execution_count'] = c.get('execution_count')
    nb = raw
    nb.metadata['solarnb_docs'] = dict(key=key, **info)
    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_suffix('.tmp')
    write_nb(nb, tmp)
    tmp.replace(dst)
    return info

def _execute_worker(src, dst, skip_flags, key) -> dict:
    "One notebook in a fresh process (spawned): its shell, modules and matplotlib state are its own."
    os.chdir(NBS)
    try: return execute_notebook(src, dst, skip_flags, key)
    except BaseException as e: return dict(name=Path(src).name, ok=False, error=f'{type(e).__name__}: {e}'[:400], seconds=0)

# ----------------------------------------------------------------------------------------------------------
# 2. nbdev processing, with the API reference rendered from the library's own objects

_re_sd = re.compile(r'^\s*show_doc\((.*)\)\s*$', re.S)

def _show_doc_args(src: str):
    "The symbol expression, name= and title_level= of a `show_doc(...)` cell."
    import ast
    try: call = ast.parse(src.strip()).body[0].value
    except Exception: return None
    if not isinstance(call, ast.Call) or not call.args: return None
    kw = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg in ('name', 'title_level')}
    return ast.unparse(call.args[0]), kw.get('name'), kw.get('title_level', 3)

def process_all(jobs: list[tuple[str, str]], nb_pages: dict) -> list[dict]:
    "Run nbdev's doc processors on each executed notebook (src, dst); render show_doc from the library."
    os.chdir(NBS)
    os.environ['IN_TEST'] = '1'
    if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))
    import importlib, warnings
    warnings.filterwarnings('ignore')
    import matplotlib; matplotlib.use('Agg')
    from execnb.nbio import read_nb, write_nb
    from nbdev import processors as P
    sys.path.insert(0, str(DOCS))
    import apidoc
    lib = ROOT/'solarnb'

    def link_of(obj):
        s = apidoc.source_line(obj, lib)
        return f'{apidoc.source_page(s[0])}#L-{s[1]}' if s else None

    class render_show_docs(P.Processor):
        """Instead of nbdev's exec_show_docs (which re-runs each notebook's definitions): evaluate each show_doc
        symbol in the notebook's module and render it with apidoc (classes with members and fields)."""
        def begin(self):
            mod = None
            for c in self.nb.cells:
                m = re.search(r'^\s*#\s*\|\s*default_exp\s+(\S+)', c.source, re.M) if c.cell_type == 'code' else None
                if m: mod = m.group(1); break
            self.ns = {}
            if mod:
                try: self.ns = dict(vars(importlib.import_module(f'solarnb.{mod}')))
                except Exception as e: self.problems.append(f'import solarnb.{mod}: {type(e).__name__}: {e}')
            sds = [_show_doc_args(directives(c.source)[1]) for c in self.nb.cells
                   if c.cell_type == 'code' and _re_sd.match(directives(c.source)[1])]
            self.shown = {a[0] for a in sds if a}

        def __call__(self, cell):
            code = directives(cell.source)[1] if cell.cell_type == 'code' else ''
            if not _re_sd.match(code): return
            args = _show_doc_args(code)
            if not args: return
            expr, name, level = args
            try: obj = eval(expr, dict(self.ns))
            except Exception as e:
                self.problems.append(f'show_doc({expr}): {type(e).__name__}: {e}'); return
            try: md = apidoc.render(obj, name or expr, level, link_of, skip=self.shown - {expr})
            except Exception as e:
                self.problems.append(f'show_doc({expr}): rendering failed: {type(e).__name__}: {e}'); md = None
            if md is None: return
            cell.outputs = [dict(output_type='display_data', metadata={}, data={'text/markdown': md})]

    class add_show_docs(P.add_show_docs):
        "nbdev's, but the show_doc cells of a cell that defines several names come in source order."
        def begin(self):
            nb = self.nb
            exports = P.L(cell for cell in nb.cells if P._want_doc(cell))
            trees = P.L(nb.cells).map(P.NbCell.parsed_).concat()
            shown_docs = {P._get_nm(t) for t in P._show_docs(trees)}
            for cell in reversed(exports):
                for nm in reversed(P._def_names(cell, shown_docs)):
                    new_cell = P.mk_cell(f'show_doc({nm})')
                    new_cell.has_sd = True
                    nb.cells.insert(cell.idx_+1, new_cell)
            nb.has_docs_ = shown_docs or exports

    out = []
    for src, dst in jobs:
        problems = []
        render_show_docs.problems = problems
        swap = {P.exec_show_docs: render_show_docs, P.add_show_docs: add_show_docs}
        class Procs(P.FilterDefaults):
            def base_procs(self): return [swap.get(p, p) for p in super().base_procs()]
        try:
            nb = read_nb(src)
            nb.path_ = str(NBS/Path(src).name)   # nbdev names the page after the notebook's path
            Procs()(nb)
            write_nb(nb, dst)
            out.append(dict(name=Path(src).name, ok=True, problems=problems, undocumented=list(apidoc.UNDOCUMENTED)))
            apidoc.UNDOCUMENTED.clear()
        except Exception as e:
            shutil.copy2(src, dst)
            out.append(dict(name=Path(src).name, ok=False, problems=problems + [f'{type(e).__name__}: {str(e)[:300]}']))
    return out

# ----------------------------------------------------------------------------------------------------------
# outputs fit for a page: no logs, tracebacks or machine paths; widgets with a note

def _path_subs() -> list[tuple[re.Pattern, str]]:
    "Machine paths -> what a reader can use: the repository relative to nbs/, site-packages, $TMPDIR."
    import site, sysconfig
    subs = []
    def lit(p, r):
        if p and len(str(p)) > 1: subs.append((re.compile(re.escape(str(p).rstrip('/')) + r'(?=/|\b)'), r))
    for sp in {sysconfig.get_paths().get('purelib'), *(site.getsitepackages() if hasattr(site, 'getsitepackages') else [])}:
        lit(sp, 'site-packages')
    lit(sys.executable, 'python')
    lit(Path(sys.executable).resolve(), 'python')
    lit(sys.prefix, '$PREFIX')
    lit(sys.base_prefix, '$PREFIX')
    for root in {ROOT, ROOT.resolve()}:
        lit(root/'nbs', '.')
        lit(root, '..')
    subs.append((re.compile(r'/work/shared/data(?=/|\b)'), 'shared/data'))
    subs.append((re.compile(r'/work/[\w.\-]+'), '..'))
    subs.append((re.compile(r'(/private)?/(tmp|var/tmp)(/[\w.\-]+)?'), '$TMPDIR'))
    subs.append((re.compile(r'(?<![\w.$/\-])/root(?=/|\b)'), '~'))
    home = str(Path.home())
    if home not in ('/', '/root'): lit(home, '~')
    return subs

_PATHS = None

def clean_paths(text: str) -> str:
    global _PATHS
    if _PATHS is None: _PATHS = _path_subs()
    for pat, rep in _PATHS: text = pat.sub(rep, text)
    return text

_re_log = re.compile(r'^\s*(\d{4}-\d\d-\d\d[ T][\d:,.]+\s*-?\s*)?(\[?(INFO|WARNING|ERROR|DEBUG|CRITICAL)\]?\s*[-:]?\s*)?'
                     r'(distributed|tornado|asyncio|bokeh|dask)(\.[\w.]+)?\s*[-:]\s')
_re_exc_line = re.compile(r'^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)\b')
_re_noise = re.compile(r'^(Task exception was never retrieved|Future exception was never retrieved|Exception in '
                       r'callback|Exception ignored in|During handling of the above exception|The above exception was)')

def clean_stream(text: str) -> str:
    "A stream without logging lines (dask, distributed, tornado, asyncio) and without tracebacks."
    out, in_tb = [], False
    for line in text.splitlines(True):
        s = line.rstrip('\n')
        if in_tb:
            if _re_exc_line.match(s): in_tb = False
            continue
        if s.startswith('Traceback (most recent call last)'): in_tb = True; continue
        if _re_log.match(s) or _re_noise.match(s): continue
        if re.match(r'^\s+(File "|raise |\^+$)', s) and out and not out[-1].strip(): continue
        out.append(line)
    return ''.join(out)

WIDGET_NOTE = 'Interactive in Jupyter: this control is live when you run the notebook'

def clean_outputs(outs: list) -> list:
    "Outputs of one cell as a page shows them."
    res = []
    for o in outs:
        t = o.get('output_type')
        if t == 'error': continue
        if t == 'stream':
            txt = o.get('text', ''); txt = ''.join(txt) if isinstance(txt, list) else txt
            txt = clean_stream(clean_paths(txt))
            if not txt.strip(): continue
            res.append(dict(o, text=txt)); continue
        if t in ('display_data', 'execute_result'):
            data = dict(o.get('data', {}))
            if WIDGET_MIME in data:
                pic = data.get('text/html', '')
                pic = ''.join(pic) if isinstance(pic, list) else pic
                note = (f'<div class="sn-widget"><p class="sn-widget-note">{WIDGET_NOTE}</p>'
                        f'<div class="sn-widget-picture">{clean_paths(pic)}</div></div>')
                # the control first, then the figures its callback drew when the cell ran
                res.insert(0, dict(output_type='display_data', metadata={}, data={'text/html': note})); continue
            for k in ('text/plain', 'text/html', 'text/markdown', 'text/latex'):
                if k in data:
                    v = data[k]; v = ''.join(v) if isinstance(v, list) else v
                    data[k] = clean_paths(v)
            res.append(dict(o, data=data)); continue
        res.append(o)
    return res

# ----------------------------------------------------------------------------------------------------------
# 3. plain notebooks for myst-nb

def _page_name(nb: dict, path: Path) -> str:
    "The page name nbdev/Quarto gives the notebook: '00_core.ipynb' -> 'core'."
    fm = _front_matter(nb)
    of = fm.get('output-file')
    if of: return Path(of).stem
    return re.sub(r'^\d+[a-z]?_', '', path.stem)

def _front_matter(nb: dict) -> dict:
    import yaml
    for c in nb['cells']:
        if c['cell_type'] == 'raw':
            s = _src(c).strip()
            if s.startswith('---'):
                try: return yaml.safe_load(s.strip('-').strip()) or {}
                except Exception: return {}
    return {}

def _anchor(name: str) -> str:
    "myst's heading slug (`myst_heading_anchors`) for an nbdev anchor: lower case, spaces -> '-', no punctuation."
    return re.sub(r'[^\w\- ]', '', name.strip().lower()).replace(' ', '-')

ANCHORS: dict[str, set] = {}   # page -> heading anchors on it (filled by `collect_anchors` before converting)

def _local_links(text: str, site_url: str) -> str:
    """nbdev links names to the published site; point them at the local pages (resolved by Sphinx). A link to a
    name the target page does not document (a private helper) becomes plain code."""
    if not site_url: return text
    pat = re.compile(r'\[([^\]\n]*)\]\(' + re.escape(site_url.rstrip('/')) + r'/([\w.-]+)\.html(#[\w.\-]+)?\)')
    def sub(m):
        page, frag = m.group(2), _anchor(m.group(3)[1:]) if m.group(3) else ''
        if frag and ANCHORS and frag not in ANCHORS.get(page, ()): return m.group(1)
        return f'[{m.group(1)}]({page}.ipynb' + (f'#{frag}' if frag else '') + ')'
    return pat.sub(sub, text)

def collect_anchors(nb: dict) -> set:
    "The heading anchors (myst's slugs, levels 1-4) of a processed notebook: its markdown and show_doc output."
    out = set()
    for c in nb['cells']:
        texts = [_src(c)] if c['cell_type'] == 'markdown' else []
        for o in c.get('outputs', []) or []:
            md = (o.get('data') or {}).get('text/markdown')
            if md: texts.append(''.join(md) if isinstance(md, list) else md)
        for t in texts:
            for m in re.finditer(r'^#{1,4} +(.+?)\s*$', t, re.M): out.add(_anchor(m.group(1)))
    return out

def _show_doc_md(cell) -> str | None:
    "The markdown that a show_doc cell displayed, without the leading rule."
    for o in cell.get('outputs', []):
        md = o.get('data', {}).get('text/markdown')
        if md is None: continue
        md = ''.join(md) if isinstance(md, list) else md
        md = re.sub(r'^\s*---\s*\n', '', md)
        # nbdev puts the source link, floated right by a style attribute, before the heading: move it after
        # the heading and give it a class (docs/_static/solarnb.css floats it)
        m = re.match(r'\s*(\[source\]\([^)]*\))(\{[^}]*\})?\s*\n+(#+ [^\n]*\n)', md)
        if m: md = m.group(3) + '\n' + m.group(1) + '{.sn-source}\n' + md[m.end():]
        return md.strip('\n')
    return None

_TAGS = {'echo': ('false', 'remove-input'), 'output': ('false', 'remove-output'),
         'include': ('false', 'remove-cell')}

def to_plain(src: Path, dst: Path, site_url: str, failed: str | None, toc: list[str] | None = None) -> dict:
    "Turn an nbdev-processed notebook into one myst-nb renders as nbdev's Quarto site would look."
    nb = json.loads(src.read_text())
    fm = _front_matter(nb)
    cells = []
    title = fm.get('title')
    if title:
        md = f'# {title}'
        if fm.get('description'): md += f'\n\n> {fm["description"]}'
        cells.append(dict(cell_type='markdown', metadata={}, source=md))
    if failed:
        cells.append(dict(cell_type='markdown', metadata={}, source=(
            ':::{warning}\nThis notebook failed to run when the documentation was built, so this page shows '
            f'outputs only up to the failing cell.\n\n```text\n{clean_paths(failed)}\n```\n:::')))
    for c in nb['cells']:
        s = _src(c)
        if c['cell_type'] == 'raw':
            if s.strip().startswith('---'): continue
            if 'source' not in c or not s.strip(): continue
            cells.append(dict(c, source=s)); continue
        if 'source' not in c or not s.strip(): continue
        if '<!-- WARNING: THIS FILE WAS AUTOGENERATED!' in s: continue
        if c['cell_type'] == 'markdown':
            cells.append(dict(cell_type='markdown', metadata={}, source=_local_links(s, site_url)))
            continue
        d, code = directives(s)
        if re.match(r'show_doc\(', code.strip()):
            md = _show_doc_md(c)
            if md: cells.append(dict(cell_type='markdown', metadata={}, source=_local_links(md, site_url)))
            continue
        if not code.strip(): continue
        tags = list(c.get('metadata', {}).get('tags', []))
        for k, (v, tag) in _TAGS.items():
            if d.get(k, '').lower() == v and tag not in tags: tags.append(tag)
        meta = {'tags': tags} if tags else {}
        outs = clean_outputs(c.get('outputs', []))
        for o in outs:
            data = o.get('data', {})
            if 'text/markdown' in data: data['text/markdown'] = _local_links(data['text/markdown'], site_url)
        cells.append(dict(cell_type='code', metadata=meta, source=code, outputs=outs,
                          execution_count=c.get('execution_count')))
    out = dict(nbformat=4, nbformat_minor=5, cells=cells,
               metadata={k: v for k, v in nb.get('metadata', {}).items() if k in ('kernelspec', 'language_info', 'widgets')})
    out['metadata'].setdefault('kernelspec', {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'})
    for i, c in enumerate(out['cells']): c['id'] = f'c{i:03d}'
    if toc is not None: out['cells'].append(toc_cell(toc))
    _write_if_changed(dst, json.dumps(out, indent=1))
    return fm

# ----------------------------------------------------------------------------------------------------------
# 4. MathJax and Sphinx

MATHJAX_KEEP = ('tex-mml-chtml.js', 'input', 'output/chtml', 'ui', 'a11y', 'sre', 'adaptors')

def ensure_mathjax() -> Path | None:
    "A local MathJax 3 (`docs/_mathjax/mathjax/tex-mml-chtml.js`), fetched from npm once."
    dst = MATHJAX/'mathjax'
    if (dst/'tex-mml-chtml.js').exists(): return dst
    if not shutil.which('npm'):
        log('!! npm not found: pages will load MathJax from its CDN'); return None
    with tempfile.TemporaryDirectory() as d:
        log('fetching MathJax 3 with npm pack ...')
        r = subprocess.run(['npm', 'pack', 'mathjax@3', '--silent'], cwd=d, capture_output=True, text=True)
        tgz = list(Path(d).glob('mathjax-*.tgz'))
        if r.returncode or not tgz:
            log('!! npm pack mathjax@3 failed; pages will load MathJax from its CDN\n' + r.stderr[-500:]); return None
        with tarfile.open(tgz[0]) as t: t.extractall(d, filter='data')
        es5 = Path(d)/'package'/'es5'
        tmp = MATHJAX/'mathjax.tmp'
        shutil.rmtree(tmp, ignore_errors=True)
        for k in MATHJAX_KEEP:
            s = es5/k
            if s.is_dir(): shutil.copytree(s, tmp/k)
            elif s.exists(): (tmp/k).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(s, tmp/k)
        shutil.copy2(Path(d)/'package'/'LICENSE', tmp/'LICENSE')
        shutil.rmtree(dst, ignore_errors=True); tmp.rename(dst)
    return dst

def _write_if_changed(p: Path, text: str):
    "Write `text` to `p` unless it holds it already (Sphinx then rebuilds only the pages that changed)."
    if p.exists() and p.read_text() == text: return
    p.write_text(text)

def toc_cell(pages: list[str]) -> dict:
    "The (hidden) toctree that orders the sidebar, for the index page."
    toc = '```{toctree}\n:hidden:\n:maxdepth: 2\n:titlesonly:\n\n' + '\n'.join(pages) + '\n```'
    return dict(cell_type='markdown', metadata={}, source=toc, id='toctree')

def site_url() -> str:
    import configparser
    c = configparser.ConfigParser(); c.read(ROOT/'settings.ini')
    d = c['DEFAULT']
    return d.get('doc_host', '').rstrip('/') + d.get('doc_baseurl', '').rstrip('/')

# ----------------------------------------------------------------------------------------------------------

def _previous_seconds() -> dict:
    try: return json.loads((WORK/'seconds.json').read_text())
    except Exception: return {}

def run_execution(nbs, a, skip_flags, lib) -> dict:
    "Execute the notebooks whose cached outputs are stale, longest first, `a.jobs` processes at a time."
    ex = WORK/'exec'
    todo, status = [], {}
    for p in nbs:
        key, dst = nb_key(p, lib, skip_flags), ex/p.name
        cached = None
        if dst.exists():
            try: cached = json.loads(dst.read_text())['metadata'].get('solarnb_docs')
            except Exception: cached = None
        forced = a.force and (not a.notebooks or p.stem in a.notebooks or p.name in a.notebooks)
        if a.no_exec or (cached and cached.get('key') == key and not forced):
            if cached and cached.get('key') != key: log(f'   {p.name}: stale cached outputs (--no-exec)')
            if not dst.exists():   # never executed: use the notebook as it is
                shutil.copy2(p, dst); cached = dict(ok=True, error=None, seconds=0)
            status[p.name] = dict(cached or {}, cached=True)
        else: todo.append((p, key))
    if not todo:
        log('1/4 executing: all notebooks cached'); return status
    prev = _previous_seconds()
    todo.sort(key=lambda t: -prev.get(t[0].name, 60))
    n = max(1, min(a.jobs, len(todo)))
    log(f'1/4 executing {len(todo)} notebook(s) in-process (execnb) with {n} job(s) '
        f'(cached: {len(nbs)-len(todo)}; skipping cells flagged {sorted(skip_flags) or "-"}) ...')
    ctx = mp.get_context('spawn')
    with cf.ProcessPoolExecutor(max_workers=n, mp_context=ctx, max_tasks_per_child=1) as pool:
        futs = {pool.submit(_execute_worker, str(p), str(ex/p.name), sorted(skip_flags), key): p for p, key in todo}
        for f in cf.as_completed(futs):
            p = futs[f]
            try: info = f.result()
            except Exception as e: info = dict(ok=False, error=f'{type(e).__name__}: {e}', seconds=0)
            status[p.name] = info
            prev[p.name] = info.get('seconds', 0)
            if info['ok']: log(f'   ok      {p.name}  ({info["seconds"]} s)')
            else: log(f'   FAILED  {p.name}  ({info["seconds"]} s): shown up to the failing cell\n    {info["error"]}')
    (WORK/'seconds.json').write_text(json.dumps(prev, indent=1))
    return status

def run_processing(nbs, a, lib, nb_pages) -> None:
    "nbdev's processing of the notebooks whose executed version (or this build's code) changed, in one process."
    ex, proc = WORK/'exec', WORK/'proc'
    me = Path(__file__).read_bytes() + (DOCS/'apidoc.py').read_bytes()
    keys = {p: hashlib.sha256((ex/p.name).read_bytes() + me + lib.encode()).hexdigest() for p in nbs}
    todo = [p for p in nbs if a.force or not (proc/p.name).exists() or not (proc/f'{p.name}.key').exists()
            or (proc/f'{p.name}.key').read_text() != keys[p]]
    if not todo: log('2/4 processing: all notebooks cached'); return
    log(f'2/4 processing {len(todo)} notebook(s) with nbdev (show_doc, hide/export removal, front matter) ...')
    for p in todo: (proc/f'{p.name}.key').unlink(missing_ok=True)
    ctx = mp.get_context('spawn')
    with cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        res = pool.submit(process_all, [(str(ex/p.name), str(proc/p.name)) for p in todo], nb_pages).result()
    n_notes = 0
    undoc = {}
    try: undoc = json.loads((WORK/'undocumented.json').read_text())
    except Exception: pass
    for r, p in zip(res, todo):
        undoc[p.name] = r.get('undocumented', [])
        if not r['ok']: log(f'!! {p.name}: nbdev processing failed ({r["problems"][-1]}); using it unprocessed')
        else: (proc/f'{p.name}.key').write_text(keys[p])
        if a.verbose:
            for q in r['problems']: log(f'   note    {p.name}: {q}')
        n_notes += len(r['problems'])
    if n_notes and not a.verbose: log(f'   ({n_notes} show_doc note(s); -v lists them)')
    (WORK/'undocumented.json').write_text(json.dumps(undoc, indent=1))
    n = sum(len(v) for v in undoc.values())
    if n: log(f'   {n} public name(s) or field(s) without a docstring or help: see docs/_nbs/undocumented.json')

def page_names(nbs) -> dict[str, str]:
    "Notebook file name -> page name ('00_core.ipynb' -> 'core'), from the notebook's own front matter."
    out = {}
    for p in nbs:
        if p.stem == 'index': out[p.name] = 'index'; continue
        nb = json.loads(p.read_text())
        title = next((_src(c) for c in nb['cells'] if c['cell_type'] == 'raw' and _src(c).strip().startswith('---')), '')
        m = re.search(r'^output-file:\s*(\S+)', title, re.M)
        out[p.name] = Path(m.group(1)).stem if m else re.sub(r'^\d+[a-z]?_', '', p.stem)
    return out

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('notebooks', nargs='*', help='with --force: re-execute only these (stems or file names)')
    ap.add_argument('-j', '--jobs', type=int, default=max(1, min(4, os.cpu_count() or 2)),
                    help='notebooks executed in parallel processes (default: the CPUs, at most 4)')
    ap.add_argument('--force', action='store_true', help='re-execute notebooks even when the cache is current')
    ap.add_argument('--no-exec', action='store_true', help='do not execute: use cached outputs, or none')
    ap.add_argument('--slow', action='store_true', help="also run cells flagged with settings.ini's tst_flags (e.g. slow)")
    ap.add_argument('-v', '--verbose', action='store_true', help='list show_doc symbols that could not be rendered')
    ap.add_argument('--clean', action='store_true', help='remove docs/_build and docs/_nbs first')
    a = ap.parse_args(argv)
    t_start = time.time()
    if a.clean:   # keeps only the notebooks' timings, which order the next execution (longest first)
        secs = _previous_seconds()
        shutil.rmtree(DOCS/'_build', ignore_errors=True); shutil.rmtree(WORK, ignore_errors=True)
        if secs: WORK.mkdir(parents=True); (WORK/'seconds.json').write_text(json.dumps(secs, indent=1))
    ex, proc, site = WORK/'exec', WORK/'proc', WORK/'site'
    for d in (ex, proc): d.mkdir(parents=True, exist_ok=True)
    site.mkdir(parents=True, exist_ok=True)
    nbs = notebooks()
    if not nbs: sys.exit(f'no notebooks in {NBS}')
    os.environ['PYTHONPATH'] = os.pathsep.join([str(ROOT)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p])
    skip_flags = set() if a.slow else tst_flags()
    lib = code_key()
    nb_pages = page_names(nbs)

    t0 = time.time()
    status = run_execution(nbs, a, skip_flags, lib)
    t_exec = time.time() - t0

    t0 = time.time()
    run_processing(nbs, a, lib, nb_pages)
    t_proc = time.time() - t0

    t0 = time.time()
    log('3/4 converting for myst-nb ...')
    url = site_url()
    pages = [nb_pages[p.name] for p in nbs if nb_pages[p.name] != 'index']
    for p in nbs: ANCHORS[nb_pages[p.name]] = collect_anchors(json.loads((proc/p.name).read_text()))
    for p in nbs:
        name = nb_pages[p.name]
        st = status.get(p.name, {})
        to_plain(proc/p.name, site/f'{name}.ipynb', url, None if st.get('ok', True) else st.get('error'),
                 toc=pages if name == 'index' else None)
    if not (site/'index.ipynb').exists():
        _write_if_changed(site/'index.ipynb', json.dumps(dict(nbformat=4, nbformat_minor=5, metadata={}, cells=[
            dict(cell_type='markdown', metadata={}, source='# solarnb', id='title'), toc_cell(pages)])))
    for f in site.glob('*.ipynb'):   # pages of notebooks that are gone
        if f.stem not in set(nb_pages.values()): f.unlink()
    t_conv = time.time() - t0

    t0 = time.time()
    mj = ensure_mathjax()
    log('4/4 building HTML with Sphinx, and the source pages ...')
    out = DOCS/'_build'/'html'
    env = dict(os.environ, SOLARNB_DOCS_MATHJAX=str(mj or ''))
    cmd = [sys.executable, '-m', 'sphinx', '-b', 'html', '-q', '-j', str(max(1, a.jobs)), '-c', str(DOCS),
           '-d', str(DOCS/'_build'/'doctrees'), str(site), str(out)]
    r = subprocess.run(cmd, env=env, cwd=ROOT)
    sys.path.insert(0, str(DOCS))
    import apidoc
    src_pages = apidoc.source_pages(ROOT/'solarnb', out, nb_pages)
    t_sphinx = time.time() - t0
    failed = [n for n, s in status.items() if not s.get('ok', True)]
    log(f'\n{len(nbs)} pages, {len(src_pages)} source pages; execute {t_exec:.0f} s, process {t_proc:.0f} s, '
        f'convert {t_conv:.0f} s, sphinx {t_sphinx:.0f} s, total {time.time()-t_start:.0f} s')
    if failed: log(f'notebooks that failed to execute (shown up to the failing cell): {", ".join(sorted(failed))}')
    if r.returncode: sys.exit(f'sphinx failed (exit {r.returncode})')
    log(f'open {out/"index.html"}  (or: python docs/check_site.py --site-only --serve)')
    if failed: sys.exit(1)   # the site is built, but a notebook that does not run is a failed build

if __name__ == '__main__': main()
