"""The API reference of solarnb's site: markdown for each documented name, and the site's own source pages.

`build.py` calls `render(obj, name, level, src_link)` for every `show_doc` cell (those nbdev adds after each
exported definition and those the notebooks write). A function renders as its signature, docstring and
parameter table (nbdev's docments comments); a class as `class Name(...)` with its docstring, then, for a
dataclass, a table of its fields (type, default, and the unit, range and help that `solarnb.core.option`
stores in the field metadata, or the field's docments comment), then each public method, classmethod,
staticmethod and property with its own signature, docstring and source link. `source_pages` writes each
`solarnb/*.py` as highlighted HTML with line anchors (`#L-12`), which the "source" links point to.
"""
from __future__ import annotations
import dataclasses, functools, html, inspect, io, re, tokenize
from pathlib import Path

# ----------------------------------------------------------------------------------------------------------
# where an object's source is

def unwrap(obj):
    "The function behind a classmethod, staticmethod, property or decorator."
    if isinstance(obj, (classmethod, staticmethod)): obj = obj.__func__
    if isinstance(obj, property): obj = obj.fget
    if isinstance(obj, functools.cached_property): obj = obj.func
    try: return inspect.unwrap(obj)
    except Exception: return obj

def source_line(obj, lib: Path) -> tuple[str, int] | None:
    "(module path relative to `lib`'s parent, first line) of `obj`'s definition, if it lies under `lib`."
    o = unwrap(obj)
    try:
        f = inspect.getsourcefile(o)
        _, line = inspect.getsourcelines(o)
    except (TypeError, OSError): return None
    if not f: return None
    try: rel = Path(f).resolve().relative_to(lib.resolve().parent)
    except ValueError: return None
    return rel.as_posix(), max(1, line)

def source_page(rel: str) -> str:
    "The site path of the source page of module file `rel` ('solarnb/core.py' -> '_modules/solarnb/core.html')."
    return '_modules/' + rel[:-3] + '.html'

# ----------------------------------------------------------------------------------------------------------
# signatures

def fmt_annotation(a) -> str:
    if isinstance(a, str): return a
    if isinstance(a, type) and a.__module__ == 'builtins': return a.__qualname__
    return inspect.formatannotation(a).replace('typing.', '')

def short_repr(v, n: int = 60) -> str:
    r = repr(v)
    return r if len(r) <= n else r[:n-3] + '...'

def fmt_params(sig: inspect.Signature) -> list[str]:
    "Each parameter as `name:type=default`, with the `/` and `*` markers where the signature has them."
    out, kw_marked = [], False
    ps = list(sig.parameters.values())
    for i, p in enumerate(ps):
        if p.kind == p.KEYWORD_ONLY and not kw_marked:
            out.append('*'); kw_marked = True
        s = p.name
        if p.kind == p.VAR_POSITIONAL: s, kw_marked = '*' + s, True
        if p.kind == p.VAR_KEYWORD: s = '**' + s
        if p.annotation is not p.empty: s += ':' + fmt_annotation(p.annotation)
        if p.default is not p.empty: s += '=' + short_repr(p.default)
        out.append(s)
        if p.kind == p.POSITIONAL_ONLY and (i + 1 == len(ps) or ps[i+1].kind != p.POSITIONAL_ONLY): out.append('/')
    return out

def signature(obj, drop_first: bool = False) -> inspect.Signature | None:
    try: sig = inspect.signature(obj)
    except (TypeError, ValueError): return None
    ps = list(sig.parameters.values())
    if drop_first and ps and ps[0].name in ('self', 'cls'): sig = sig.replace(parameters=ps[1:])
    return sig

def fmt_call(prefix: str, name: str, sig: inspect.Signature | None, width: int = 80) -> str:
    "`prefix name(params) -> ret`, one parameter a line when it does not fit in `width` characters."
    if sig is None: return f'{prefix}{name}(...)'
    ps = fmt_params(sig)
    ret = '' if sig.return_annotation is sig.empty else ' -> ' + fmt_annotation(sig.return_annotation)
    one = f'{prefix}{name}({", ".join(ps)}){ret}'
    if len(one) <= width: return one
    return f'{prefix}{name}(\n' + ''.join(f'    {p},\n' for p in ps) + f'){ret}'

# ----------------------------------------------------------------------------------------------------------
# docstrings, parameter tables, fields

def docstring(obj, owner=None) -> str:
    "`obj`'s docstring, without the one dataclasses make up from the signature."
    o = unwrap(obj)
    d = inspect.getdoc(o) or ''
    if inspect.isclass(o) and dataclasses.is_dataclass(o) and d.startswith(o.__name__ + '('): return ''
    if inspect.isclass(o) and d and d == inspect.getdoc(object): return ''
    return d

def _cell(s) -> str:
    return str(s).replace('|', '\\|').replace('\n', ' ')

def param_table(obj, drop_first: bool = False) -> str:
    "nbdev's parameter table (Type, Default, Details) when any parameter has a docments comment."
    try:
        from fastcore.docments import docments
        dm = docments(unwrap(obj), full=True)
    except Exception: return ''
    rows = [(k, v) for k, v in dm.items() if k != 'return']
    if drop_first and rows and rows[0][0] in ('self', 'cls'): rows = rows[1:]
    ret = dm.get('return') or {}
    if not any(v.get('docment') for _, v in rows) and not ret.get('docment'): return ''
    out = ['| | Type | Default | Details |', '|---|---|---|---|']
    for k, v in rows:
        anno = '' if v.get('anno') in (None, inspect.Parameter.empty) else fmt_annotation(v['anno'])
        dflt = '' if v.get('default') is inspect.Parameter.empty else short_repr(v['default'], 40)
        out.append(f'| {k} | {_cell(anno)} | {_cell(dflt)} | {_cell(v.get("docment") or "")} |')
    if ret.get('docment'):
        anno = '' if ret.get('anno') in (None, inspect.Parameter.empty) else fmt_annotation(ret['anno'])
        out.append(f'| **Returns** | {_cell(anno)} | | {_cell(ret["docment"])} |')
    return '\n'.join(out)

def field_comments(cls) -> dict[str, str]:
    "The `# comment` after each field of a class body (docments style), by field name."
    try: src = inspect.getsource(cls)
    except (TypeError, OSError): return {}
    out, name, depth = {}, None, 0
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(src).readline))
    except (tokenize.TokenError, SyntaxError): return {}
    line_first = {}
    for t in toks:
        if t.type == tokenize.NAME and t.start[0] not in line_first: line_first[t.start[0]] = (t.string, t.start[1])
        if t.type == tokenize.COMMENT and t.start[0] in line_first:
            nm, col = line_first[t.start[0]]
            if col > 0 and nm not in ('def', 'class', 'return', 'if', 'for', 'else', 'elif', 'while', 'with'):
                out.setdefault(nm, t.string.lstrip('#').strip())
    return out

def fmt_default(f) -> str:
    if f.default is not dataclasses.MISSING: return short_repr(f.default, 40)
    if f.default_factory is not dataclasses.MISSING:
        try: return short_repr(f.default_factory(), 40)
        except Exception: return f'{getattr(f.default_factory, "__name__", "factory")}()'
    return ''

def fmt_range(m) -> str:
    if m.get('choices'): return 'one of ' + ', '.join(f'`{c}`' for c in m['choices'])
    lo, hi = m.get('min'), m.get('max')
    if lo is not None and hi is not None: return f'{lo} to {hi}'
    if lo is not None: return f'&ge; {lo}'
    if hi is not None: return f'&le; {hi}'
    return ''

def field_table(cls) -> str:
    "A dataclass's fields: name, type, default, unit, valid range and help (option metadata or comment)."
    fs = [f for f in dataclasses.fields(cls) if not f.name.startswith('_')]
    if not fs: return ''
    comments = field_comments(cls)
    rows = []
    has_unit = any(f.metadata.get('unit') for f in fs)
    has_range = any(fmt_range(f.metadata) for f in fs)
    head = ['Field', 'Type', 'Default'] + (['Unit'] if has_unit else []) + (['Range'] if has_range else []) + ['Details']
    rows.append('| ' + ' | '.join(head) + ' |')
    rows.append('|' + '---|' * len(head))
    for f in fs:
        m = f.metadata or {}
        cells = [f'`{f.name}`', fmt_annotation(f.type), fmt_default(f)]
        if has_unit: cells.append(m.get('unit') or '')
        if has_range: cells.append(fmt_range(m))
        cells.append(m.get('help') or comments.get(f.name, ''))
        if not cells[-1]: UNDOCUMENTED.append(f'{cls.__name__}.{f.name} (field)')
        rows.append('| ' + ' | '.join(_cell(c) for c in cells) + ' |')
    return '**Fields**\n\n' + '\n'.join(rows)

# ----------------------------------------------------------------------------------------------------------
# members of a class

def member_kind(v) -> str | None:
    if isinstance(v, classmethod): return 'classmethod'
    if isinstance(v, staticmethod): return 'staticmethod'
    if isinstance(v, (property, functools.cached_property)): return 'property'
    if inspect.isfunction(v) or inspect.isfunction(unwrap(v)): return 'method'
    return None

def public_members(cls, skip: set = frozenset()) -> list[tuple[str, object, str]]:
    "The public methods, classmethods, staticmethods and properties `cls` defines itself, in source order."
    out = []
    for k, v in vars(cls).items():
        if k.startswith('_') or f'{cls.__name__}.{k}' in skip: continue
        kind = member_kind(v)
        if kind: out.append((k, v, kind))
    def line(item):
        s = source_line(item[1], Path('/'))
        return s[1] if s else 10**9
    return sorted(out, key=line)

def class_attributes(cls) -> list[tuple[str, object]]:
    "Public plain class attributes (not dataclass fields, not members): name and value."
    fields = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    out = []
    for k, v in vars(cls).items():
        if k.startswith('_') or k in fields or member_kind(v) or inspect.isclass(v): continue
        if callable(v): continue
        out.append((k, v))
    return out

# ----------------------------------------------------------------------------------------------------------
# markdown

UNDOCUMENTED: list[str] = []   # names rendered without a docstring (or fields without help), for the build's report

def src_html(link: str | None) -> str:
    return f'<a class="sn-source" href="{html.escape(link)}">source</a>\n\n' if link else ''

def code(s: str) -> str:
    return f'```python\n{s}\n```'

def render_function(obj, name: str, level: int, link: str | None, method: bool = False, prefix: str = '') -> str:
    h = '#' * level
    sig = signature(unwrap(obj) if not isinstance(obj, (classmethod, staticmethod)) else obj.__func__,
                    drop_first=method and not isinstance(obj, staticmethod))
    f = obj.__func__ if isinstance(obj, (classmethod, staticmethod)) else obj
    is_async = inspect.iscoroutinefunction(unwrap(f))
    kw = '' if method else ('async def ' if is_async else 'def ')
    parts = [f'{h} {name}\n', src_html(link) + code(prefix + fmt_call(kw, name, sig))]
    d = docstring(obj)
    if d: parts.append(d)
    else: UNDOCUMENTED.append(name)
    t = param_table(f, drop_first=method and not isinstance(obj, staticmethod))
    if t: parts.append(t)
    return '\n\n'.join(parts)

def render_property(obj, name: str, level: int, link: str | None) -> str:
    h = '#' * level
    f = unwrap(obj)
    sig = signature(f)
    ret = '' if sig is None or sig.return_annotation is sig.empty else ' -> ' + fmt_annotation(sig.return_annotation)
    deco = '@functools.cached_property' if isinstance(obj, functools.cached_property) else '@property'
    parts = [f'{h} {name}\n', src_html(link) + code(f'{deco}\n{name}{ret}')]
    d = docstring(obj)
    if d: parts.append(d)
    else: UNDOCUMENTED.append(name)
    return '\n\n'.join(parts)

def render_class(cls, name: str, level: int, link_of, skip: set = frozenset()) -> str:
    "A class as `class Name(...)`, its docstring, fields (dataclasses), attributes and public members."
    h = '#' * level
    bases = [b.__qualname__ if b.__module__ == 'builtins' or b.__module__.startswith('solarnb')
             else f'{b.__module__}.{b.__qualname__}' for b in cls.__bases__ if b is not object]
    sig = signature(cls)
    if sig is not None: sig = sig.replace(return_annotation=inspect.Signature.empty)
    if sig is None or issubclass(cls, BaseException) and '__init__' not in vars(cls):
        head = f'class {name}' + (f'({", ".join(bases)})' if bases else '')
    else:
        head = fmt_call('class ', name, sig)
        if dataclasses.is_dataclass(cls):
            for f in dataclasses.fields(cls):
                if f.default_factory is not dataclasses.MISSING:
                    head = head.replace(f'{f.name}:{fmt_annotation(f.type)}=<factory>', f'{f.name}:{fmt_annotation(f.type)}={fmt_default(f)}')
        if bases: head += '\n# bases: ' + ', '.join(bases)
    parts = [f'{h} {name}\n', src_html(link_of(cls)) + code(head)]
    d = docstring(cls)
    if d: parts.append(d)
    else: UNDOCUMENTED.append(name)
    if dataclasses.is_dataclass(cls):
        t = field_table(cls)
        if t: parts.append(t)
    else:
        t = param_table(cls.__init__, drop_first=True) if '__init__' in vars(cls) else ''
        if t: parts.append(t)
    attrs = class_attributes(cls)
    if attrs:
        rows = ['| Attribute | Value |', '|---|---|'] + [f'| `{k}` | `{_cell(short_repr(v, 80))}` |' for k, v in attrs]
        parts.append('**Class attributes**\n\n' + '\n'.join(rows))
    for k, v, kind in public_members(cls, skip):
        nm = f'{name}.{k}'
        if kind == 'property': parts.append(render_property(v, nm, level + 1, link_of(v)))
        else:
            prefix = {'classmethod': '@classmethod\n', 'staticmethod': '@staticmethod\n'}.get(kind, '')
            parts.append(render_function(v, nm, level + 1, link_of(v), method=True, prefix=prefix))
    return '\n\n'.join(parts)

def render(obj, name: str, level: int, link_of, skip: set = frozenset()) -> str | None:
    "Markdown for `obj` shown as `name` with a heading of `level`; None when it is not a function or class."
    if inspect.isclass(obj): return render_class(obj, name, level, link_of, skip)
    if isinstance(obj, (property, functools.cached_property)): return render_property(obj, name, level, link_of(obj))
    f = unwrap(obj)
    if inspect.isfunction(f) or inspect.ismethod(obj) or isinstance(obj, (classmethod, staticmethod)):
        method = '.' in name and (inspect.ismethod(obj) is False)
        sig = signature(f)
        first = next(iter(sig.parameters), None) if sig else None
        return render_function(obj, name, level, link_of(obj), method=method and first in ('self', 'cls'))
    return None

# ----------------------------------------------------------------------------------------------------------
# source pages

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ margin: 0; font-family: system-ui, sans-serif; background: #fff; color: #222; }}
header {{ padding: .8rem 1.2rem; border-bottom: 1px solid #ddd; position: sticky; top: 0; background: #fafafa; }}
header a {{ margin-right: 1.2rem; }}
main {{ padding: 0 1.2rem 4rem; }}
.highlight pre {{ font-size: 13px; line-height: 1.45; }}
.highlight .linenos {{ color: #999; display: inline-block; width: 4.5em; text-align: right; padding-right: 1em; user-select: none; }}
.highlight a[href^="#L-"] {{ text-decoration: none; }}
.highlight a[id] {{ scroll-margin-top: 4.5rem; }}
.highlight :target + a .linenos {{ background: #ffeb8a; color: #000; }}
{css}
</style></head>
<body><header><strong>{title}</strong> &nbsp; {links}</header>
<main>{body}</main></body></html>
"""

_re_nbref = re.compile(r'(<span class="c1"># %% \.\./nbs/)([\w.\-]+\.ipynb)( [^<]*)?(</span>)')

def source_html(path: Path, rel: str, nb_pages: dict[str, str]) -> str:
    "Module file `path` (shown as `rel`) as highlighted HTML with line anchors `L-n`, up to the site root."
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer
    fmt = HtmlFormatter(linenos='inline', lineanchors='L', anchorlinenos=True)
    body = highlight(path.read_text(), PythonLexer(), fmt)
    up = '../' * (rel.count('/') + 1)
    def nb_link(m):
        page = nb_pages.get(m.group(2))
        if not page: return m.group(0)
        return f'{m.group(1)}<a href="{up}{page}.html">{m.group(2)}</a>{m.group(3) or ""}{m.group(4)}'
    body = _re_nbref.sub(nb_link, body)
    src_nbs = sorted(set(re.findall(r'# %% \.\./nbs/([\w.\-]+\.ipynb)', path.read_text())))
    links = [f'<a href="{up}index.html">solarnb documentation</a>']
    links += [f'<a href="{up}{nb_pages[n]}.html">{n[:-6]} notebook</a>' for n in src_nbs if n in nb_pages]
    return _PAGE.format(title=html.escape(rel), css=fmt.get_style_defs('.highlight'), links=' '.join(links), body=body)

def source_pages(lib: Path, out: Path, nb_pages: dict[str, str]) -> list[str]:
    "Write the source page of every module under `lib` into `out` (site root); return the pages written."
    written = []
    for p in sorted(lib.rglob('*.py')):
        if '__pycache__' in p.parts: continue
        rel = p.relative_to(lib.parent).as_posix()
        dst = out/source_page(rel)
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(source_html(p, rel, nb_pages))
        written.append(source_page(rel))
    return written
