"""The mutant catalogue of tools/sndtag bench mutants: kernel-bug patterns
applied to the correct core's sources, as text edits.

Every edit keeps the line count, so a mutant's file:line is the original
file's.  Code compiled only into a variant (#ifdef SNDTAG_VARIANT_*),
comments, strings, preprocessor lines and KASSERT/MPASS arguments are never
mutated: the first is not the correct core, the others are not behaviour.

Each mutant comes in two texts: `plain` (the mutation alone, for the
equivalence check) and `probed` (the same with a call to
sndtag_mutant_reached() at the site, so the campaign can tell a mutant it
never executed from one it executed without noticing).
"""
import os
import random
import re

PROBE = "sndtag_mutant_reached()"

OPERATORS = {
    "del_rele": "delete an m_snd_tag_rele() call",
    "del_ref": "drop the reference m_snd_tag_ref() takes (use the pointer alone)",
    "del_if_rele": "delete an if_rele() call",
    "del_m_freem": "delete an m_freem() call",
    "swap_ref": "swap two adjacent reference operations",
    "drop_lock": "delete a lock, unlock or epoch enter/exit",
    "negate_flag": "negate a flag test",
    "csum_to_ptr": "test the snd_tag pointer instead of CSUM_SND_TAG",
    "del_return": "remove an early return",
    "del_stat": "delete a statistics update (counter, *STAT_INC/ADD, if_inc_counter, stats.field++)",
    "del_flag_set": "delete a statement that sets or clears a state flag (x |= FLAG, x &= ~FLAG)",
    "keep_old": "drop the store of a computed value into a structure field (it keeps its old value)",
}

LOCK_CALLS = ("mtx_lock", "mtx_unlock", "INP_WLOCK", "INP_WUNLOCK",
              "INP_RLOCK", "INP_RUNLOCK", "INP_UNLOCK", "rw_wlock",
              "rw_wunlock", "rw_rlock", "rw_runlock", "sx_xlock", "sx_xunlock",
              "SOCK_LOCK", "SOCK_UNLOCK", "NET_EPOCH_ENTER", "NET_EPOCH_EXIT",
              "VLAN_XLOCK", "VLAN_XUNLOCK", "LAGG_XLOCK", "LAGG_XUNLOCK")
REF_CALLS = ("m_snd_tag_ref", "m_snd_tag_rele", "if_ref", "if_rele",
             "refcount_acquire", "refcount_release", "in_pcbref", "in_pcbrele")
STAT_CALLS = ("counter_u64_add", "counter_u64_subtract", "if_inc_counter",
              "if_inc_aggcounter")
# IPSTAT_INC(f), IP6STAT_ADD(f, n), TCPSTAT_INC(f), KMOD_TCPSTAT_INC(f), ...
STAT_MACRO = r"[A-Z][A-Z0-9_]*STAT_(?:INC|ADD|DEC|SUB)"
SOURCE_DIRS = ("kern", "net", "netinet", "netinet6", "dev")


class Mutant:
    def __init__(self, path, line, op, plain, probed, desc):
        self.path = path            # relative to the repository root
        self.line = line
        self.op = op
        self.plain = plain
        self.probed = probed
        self.desc = desc
        self.id = None

    @property
    def where(self):
        return "%s:%d" % (self.path, self.line)

    @property
    def area(self):
        return self.path.split("/")[1]


def _mask(text):
    """The text with comments, string and character literals blanked
    (newlines kept), so patterns only ever match code."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if out[k] != "\n":
                    out[k] = " "
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = " "
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            for k in range(i + 1, min(j, n)):
                if out[k] != "\n":
                    out[k] = " "
            i = j + 1
        else:
            i += 1
    return "".join(out)


def _inactive_lines(text):
    """Line numbers (1-based) that the correct core does not compile:
    variant branches, and every preprocessor line."""
    dead = set()
    stack = []      # per #if: [this branch live, some branch taken, parent live]
    live = True
    for no, line in enumerate(text.split("\n"), 1):
        s = line.strip()
        m = re.match(r"#\s*(ifdef|ifndef|if|elif|else|endif)\b(.*)", s)
        if m:
            kw, cond = m.group(1), m.group(2)
            variant = "SNDTAG_VARIANT_" in cond
            if kw in ("ifdef", "ifndef", "if"):
                if variant:
                    val = (kw == "ifndef")
                else:
                    val = True
                stack.append([val, val, live])
                live = live and val
            elif kw == "elif" and stack:
                top = stack[-1]
                val = (not top[1]) and (not variant)
                top[0] = val
                top[1] = top[1] or val
                live = top[2] and val
            elif kw == "else" and stack:
                top = stack[-1]
                top[0] = not top[1]
                top[1] = True
                live = top[2] and top[0]
            elif kw == "endif" and stack:
                live = stack.pop()[2]
            dead.add(no)
            continue
        if not live or s.startswith("#"):
            dead.add(no)
    # Continuation lines of a #define.
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if line.lstrip().startswith("#"):
            j = i
            while j < len(lines) and lines[j].endswith("\\"):
                j += 1
                dead.add(j + 1)
    return dead


def _close_paren(masked, i):
    """Index just past the parenthesis matching masked[i] == '('."""
    depth = 0
    for j in range(i, len(masked)):
        if masked[j] == "(":
            depth += 1
        elif masked[j] == ")":
            depth -= 1
            if depth == 0:
                return j + 1
    return -1


def _assert_spans(masked):
    spans = []
    for m in re.finditer(r"\b(KASSERT|MPASS|CTASSERT|_Static_assert)\s*\(", masked):
        e = _close_paren(masked, m.end() - 1)
        if e > 0:
            spans.append((m.start(), e))
    return spans


class _File:
    def __init__(self, root, rel):
        self.rel = rel
        with open(os.path.join(root, rel)) as f:
            self.text = f.read()
        self.masked = _mask(self.text)
        self.dead = _inactive_lines(self.text)
        self.asserts = _assert_spans(self.masked)

    def lineno(self, pos):
        return self.text.count("\n", 0, pos) + 1

    def usable(self, start, end):
        # Column 0 is a definition or prototype (style(9)), not a call.
        if start == 0 or self.text[start - 1] == "\n":
            return False
        a, b = self.lineno(start), self.lineno(end)
        if any(l in self.dead for l in range(a, b + 1)):
            return False
        return not any(s < end and start < e for s, e in self.asserts)

    def edit(self, start, end, repl):
        return self.text[:start] + repl + self.text[end:]

    def prev_code_char(self, pos):
        j = pos - 1
        while j >= 0 and self.masked[j] in " \t\n":
            j -= 1
        return self.masked[j] if j >= 0 else ""


def _keep_lines(removed, repl):
    """repl plus the newlines of what it replaces: line numbers hold."""
    return repl + "\n" * removed.count("\n")


def _starts_statement(f, pos):
    """Whether the code at pos begins a statement: what precedes it ends
    one, opens or closes a block, closes an if/for/while head, is a
    label, or is an else."""
    j = pos - 1
    while True:
        while j >= 0 and f.masked[j] in " \t\n":
            j -= 1
        ls = f.masked.rfind("\n", 0, j + 1) + 1
        # A preprocessor line (the #endif of a variant branch) is not code.
        if j >= 0 and f.masked[ls:j + 1].lstrip().startswith("#"):
            j = ls - 1
            continue
        break
    prev = f.masked[j] if j >= 0 else ""
    before = f.masked[max(0, j - 3):j + 1]
    return prev in (";", "{", "}", ")", ":") or before == "else"


def _statement_calls(f, names):
    """(start, end) of every `name(...);` that is a whole statement."""
    return _statement_calls_re(f, "|".join(re.escape(n) for n in names))


def _statement_calls_re(f, names_re):
    """The same for callee names matching the regular expression names_re."""
    pat = re.compile(r"\b(%s)\s*\(" % names_re)
    for m in pat.finditer(f.masked):
        e = _close_paren(f.masked, m.end() - 1)
        if e < 0:
            continue
        k = e
        while k < len(f.masked) and f.masked[k] in " \t":
            k += 1
        if k >= len(f.masked) or f.masked[k] != ";":
            continue
        if not _starts_statement(f, m.start()):
            continue
        if f.usable(m.start(), k + 1):
            yield m.group(1), m.start(), k + 1


def _delete_call(f, op, names, desc, regex=False):
    calls = _statement_calls_re(f, names) if regex else _statement_calls(f, names)
    for name, s, e in calls:
        old = f.text[s:e]
        yield Mutant(f.rel, f.lineno(s), op,
                     f.edit(s, e, _keep_lines(old, ";")),
                     f.edit(s, e, _keep_lines(old, PROBE + ";")),
                     "%s: %s" % (desc, " ".join(old.split())))


def _del_ref(f):
    for m in re.finditer(r"\bm_snd_tag_ref\s*\(", f.masked):
        e = _close_paren(f.masked, m.end() - 1)
        if e < 0 or not f.usable(m.start(), e):
            continue
        arg = f.text[m.end():e - 1]
        old = f.text[m.start():e]
        yield Mutant(f.rel, f.lineno(m.start()), "del_ref",
                     f.edit(m.start(), e, "(%s)" % arg),
                     f.edit(m.start(), e, "(%s, (%s))" % (PROBE, arg)),
                     "no reference taken: %s" % " ".join(old.split()))


_DECL = re.compile(r"^\s*(struct|union|enum|const|static|unsigned|int|long|bool|char|void|u_int|uint\w*|size_t)\b")


def _swap_ref(f):
    lines = f.text.split("\n")
    mlines = f.masked.split("\n")
    pat = re.compile(r"\b(%s)\s*\(" % "|".join(REF_CALLS))
    for i in range(len(lines) - 1):
        a, b = mlines[i], mlines[i + 1]
        if not (pat.search(a) and pat.search(b)):
            continue
        if i + 1 in f.dead or i + 2 in f.dead:
            continue
        ia = len(a) - len(a.lstrip("\t"))
        ib = len(b) - len(b.lstrip("\t"))
        if ia != ib or not a.rstrip().endswith(";") or not b.rstrip().endswith(";"):
            continue
        if _DECL.match(a) or _DECL.match(b) or a.strip().startswith(("if", "for", "while", "}", "return")) \
                or b.strip().startswith(("if", "for", "while", "}", "return")):
            continue
        # Both must be complete statements (no open parenthesis).
        if a.count("(") != a.count(")") or b.count("(") != b.count(")"):
            continue
        pos = sum(len(x) + 1 for x in lines[:i])
        if not f.usable(pos + ia, pos + len(lines[i]) + 1 + len(lines[i + 1])):
            continue
        tab = "\t" * ia
        plain = lines[:i] + [lines[i + 1], lines[i]] + lines[i + 2:]
        probed = lines[:i] + [tab + "{ %s; %s }" % (PROBE, lines[i + 1].strip()),
                              lines[i]] + lines[i + 2:]
        yield Mutant(f.rel, i + 1, "swap_ref", "\n".join(plain), "\n".join(probed),
                     "swapped: %s / %s" % (lines[i].strip(), lines[i + 1].strip()))


def _conditions(f):
    """(start, end) of the inside of every if/while condition."""
    for m in re.finditer(r"\b(if|while)\s*\(", f.masked):
        e = _close_paren(f.masked, m.end() - 1)
        if e > 0:
            yield m.end(), e - 1


_FLAG = r"[A-Z][A-Z0-9_]*"


def _negate_flag(f):
    for s, e in _conditions(f):
        if not f.usable(s, e):
            continue
        cond = f.masked[s:e]
        one = " ".join(cond.split())
        if re.fullmatch(r"[\w>.\-\[\]]+\s*&\s*" + _FLAG, one):
            old = f.text[s:e]
            yield Mutant(f.rel, f.lineno(s), "negate_flag",
                         f.edit(s, e, "!(%s)" % old),
                         f.edit(s, e, "(%s, !(%s))" % (PROBE, old)),
                         "negated: if (%s)" % one)
            continue
        for m in re.finditer(r"\(([^()]*&\s*%s)\)(\s*)(==|!=)(\s*)0\b" % _FLAG, cond):
            a, b = s + m.start(), s + m.end()
            old = f.text[a:b]
            new = old[:m.start(3) - m.start()] + ("!=" if m.group(3) == "==" else "==") + \
                old[m.end(3) - m.start():]
            yield Mutant(f.rel, f.lineno(a), "negate_flag", f.edit(a, b, new),
                         f.edit(a, b, "(%s, %s)" % (PROBE, new)),
                         "negated: %s -> %s" % (" ".join(old.split()), " ".join(new.split())))


def _csum_to_ptr(f):
    pat = re.compile(r"([A-Za-z_][\w]*(?:(?:->|\.)[A-Za-z_]\w*)*)->m_pkthdr\.csum_flags\s*&\s*CSUM_SND_TAG\b")
    for m in pat.finditer(f.masked):
        if not f.usable(m.start(), m.end()):
            continue
        new = "(%s->m_pkthdr.snd_tag != NULL)" % m.group(1)
        yield Mutant(f.rel, f.lineno(m.start()), "csum_to_ptr",
                     f.edit(m.start(), m.end(), new),
                     f.edit(m.start(), m.end(), "(%s, %s)" % (PROBE, new)),
                     "%s -> %s" % (" ".join(f.text[m.start():m.end()].split()), new))


def _del_return(f):
    """A return inside a nested block (two tabs or more of indentation)
    whose function goes on after the block: an early return."""
    lines = f.masked.split("\n")
    pos = 0
    starts = []
    for l in f.text.split("\n"):
        starts.append(pos)
        pos += len(l) + 1
    for i, l in enumerate(lines):
        m = re.match(r"^(\t\t+)return\b[^;]*;\s*$", l)
        if not m or (i + 1) in f.dead:
            continue
        # The function continues: some later line before its closing brace
        # (a "}" in column 0) is code at depth one.
        j = i + 1
        more = False
        while j < len(lines) and not lines[j].startswith("}"):
            if re.match(r"^\t[^\t}\s]", lines[j]):
                more = True
                break
            j += 1
        if not more:
            continue
        s = starts[i] + len(m.group(1))
        e = starts[i] + len(l.rstrip())
        if not f.usable(s, e):
            continue
        old = f.text[s:e]
        yield Mutant(f.rel, i + 1, "del_return", f.edit(s, e, ";"),
                     f.edit(s, e, PROBE + ";"),
                     "early return removed: %s" % old.strip())


# A member path such as p->a.b[i]->c: something stored in a structure.
_MEMBER = r"[A-Za-z_]\w*(?:\[[^\[\]\n;]*\])?(?:(?:->|\.)[A-Za-z_]\w*(?:\[[^\[\]\n;]*\])?)+"
_STATS_PART = re.compile(r"^\w*stats?$", re.I)


def _statement_end(masked, i):
    """Index of the ';' ending the expression that starts at i, or -1 when
    a comma, a brace or an unbalanced parenthesis comes first."""
    depth = 0
    for j in range(i, len(masked)):
        c = masked[j]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
            if depth < 0:
                return -1
        elif c in "{}":
            return -1
        elif depth == 0 and c == ",":
            return -1
        elif depth == 0 and c == ";":
            return j
    return -1


def _delete_stmt(f, op, s, e, what):
    old = f.text[s:e]
    return Mutant(f.rel, f.lineno(s), op, f.edit(s, e, _keep_lines(old, ";")),
                  f.edit(s, e, _keep_lines(old, PROBE + ";")),
                  "%s: %s" % (what, " ".join(old.split())))


def _del_stat(f):
    """A statistic nobody updates: the counters (counter(9), if_inc_counter,
    the *STAT_INC/ADD macros of ip_var.h and tcp_var.h) and the
    increments of a field of a statistics structure (ipstat.ips_total++,
    sc->sc_stats.tx_drops += n).  FreeBSD counts its drops; a forgotten
    update makes a counted drop a silent one."""
    for m in _delete_call(f, "del_stat", "|".join(re.escape(n) for n in STAT_CALLS) +
                          "|" + STAT_MACRO, "deleted", regex=True):
        yield m
    post = re.compile(r"(?<![\w.>])(%s)\s*(\+\+|--|\+=|-=)" % _MEMBER)
    pre = re.compile(r"(?<![\w.>+-])(\+\+|--)\s*(%s)\s*;" % _MEMBER)
    found = []
    for m in post.finditer(f.masked):
        e = _statement_end(f.masked, m.end())
        if e < 0 or (m.group(2) in ("++", "--") and f.masked[m.end():e].strip()):
            continue
        found.append((m.start(), e + 1, m.group(1)))
    for m in pre.finditer(f.masked):
        found.append((m.start(), m.end(), m.group(2)))
    for s, e, lv in sorted(found):
        parts = re.findall(r"[A-Za-z_]\w*", re.sub(r"\[[^\]]*\]", "", lv))
        if not any(_STATS_PART.match(p) for p in parts[:-1]):
            continue
        if _starts_statement(f, s) and f.usable(s, e):
            yield _delete_stmt(f, "del_stat", s, e, "deleted")


def _del_flag_set(f):
    """A state transition that never happens: delete `x |= FLAG;` or
    `x &= ~FLAG;` (FLAG an all-caps constant, or several or-ed)."""
    flags = r"(?:%s|\(\s*%s(?:\s*\|\s*%s)*\s*\))" % (_FLAG, _FLAG, _FLAG)
    pat = re.compile(r"(?<![\w.>])(?:%s|[A-Za-z_]\w*)\s*(?:\|=\s*%s|&=\s*~\s*%s)\s*;"
                     % (_MEMBER, flags, flags))
    for m in pat.finditer(f.masked):
        if _starts_statement(f, m.start()) and f.usable(m.start(), m.end()):
            yield _delete_stmt(f, "del_flag_set", m.start(), m.end(), "deleted")


_NOT_VALUES = {"sizeof", "struct", "union", "enum", "const", "volatile",
               "unsigned", "signed", "int", "long", "short", "char", "bool",
               "void", "size_t", "ssize_t", "true", "false"}


def _computed(rhs):
    """Whether an expression depends on something other than constants:
    a variable, a field or a call (lower-case identifiers that are not
    keywords or types)."""
    rhs = re.sub(r"\bsizeof\s*(?:\([^()]*\)|\w+)", " ", rhs)
    rhs = re.sub(r"\b(?:struct|union|enum)\s+\w+", " ", rhs)
    for w in re.findall(r"[A-Za-z_]\w*", rhs):
        if w in _NOT_VALUES or re.fullmatch(r"u?_?int\d*_t|u_(?:int|long|short|char)", w):
            continue
        if re.search(r"[a-z]", w):
            return True
    return False


def _keep_old(f):
    """A stale field: `p->f = expr;` becomes `(void)(expr);`, so the
    expression is still evaluated (its calls and side effects happen)
    but the structure keeps its old value.  Only computed values: the
    store of a constant (NULL, 0, a FLAG) is left alone."""
    pat = re.compile(r"(?<![\w.>*&])(%s)\s*=(?!=)" % _MEMBER)
    for m in pat.finditer(f.masked):
        e = _statement_end(f.masked, m.end())
        if e < 0 or not _computed(f.masked[m.end():e]):
            continue
        if not _starts_statement(f, m.start()) or not f.usable(m.start(), e + 1):
            continue
        rhs = f.text[m.end():e].strip()
        old = f.text[m.start():e + 1]
        body = f.text[m.end():e]
        lead = body[:len(body) - len(body.lstrip())]
        # The newlines of the left side and of the blank after "=" stay.
        nl = "\n" * f.text[m.start():m.end()].count("\n") + "\n" * lead.count("\n")
        yield Mutant(f.rel, f.lineno(m.start()), "keep_old",
                     f.edit(m.start(), e + 1, "(void)(%s);%s" % (rhs, nl)),
                     f.edit(m.start(), e + 1, "(%s, (void)(%s));%s" % (PROBE, rhs, nl)),
                     "store dropped (old value kept): %s" % " ".join(old.split()))


def catalogue(root, files=None):
    """Every mutant the catalogue yields on core/{kern,net,netinet,
    netinet6,dev}/**/*.c, optionally only files whose path contains one
    of `files`."""
    rels = []
    for d in SOURCE_DIRS:
        for dp, _, fs in os.walk(os.path.join(root, "core", d)):
            for n in fs:
                if n.endswith(".c"):
                    rels.append(os.path.relpath(os.path.join(dp, n), root))
    rels.sort()
    if files:
        rels = [r for r in rels if any(x in r for x in files)]
    out = []
    for rel in rels:
        f = _File(root, rel)
        out += _delete_call(f, "del_rele", ["m_snd_tag_rele"], "deleted")
        out += _del_ref(f)
        out += _delete_call(f, "del_if_rele", ["if_rele"], "deleted")
        out += _delete_call(f, "del_m_freem", ["m_freem"], "deleted")
        out += _swap_ref(f)
        out += _delete_call(f, "drop_lock", LOCK_CALLS, "deleted")
        out += _negate_flag(f)
        out += _csum_to_ptr(f)
        out += _del_return(f)
        out += _del_stat(f)
        out += _del_flag_set(f)
        out += _keep_old(f)
    return out


def sample(muts, n, seed):
    """n mutants drawn without replacement, spread over the source areas
    and operators: round robin over areas, inside each over its
    operators in an order drawn with the seed, each operator's list
    shuffled with the seed.  Ids follow the draw."""
    rng = random.Random(seed)
    areas = {}
    for m in muts:
        areas.setdefault(m.area, {}).setdefault(m.op, []).append(m)
    for ops in areas.values():
        for l in ops.values():
            rng.shuffle(l)
    order = sorted(areas)
    # Each area's operators in an order drawn with the seed (sorted, a
    # small draw would only ever take the alphabetically first ones).
    oporder = {}
    for a in order:
        oporder[a] = sorted(areas[a])
        rng.shuffle(oporder[a])
    opcur = {a: 0 for a in order}
    picked = []
    while len(picked) < n and any(any(l for l in areas[a].values()) for a in order):
        for a in order:
            if len(picked) >= n:
                break
            ops = [o for o in oporder[a] if areas[a][o]]
            if not ops:
                continue
            o = ops[opcur[a] % len(ops)]
            opcur[a] += 1
            picked.append(areas[a][o].pop())
    for i, m in enumerate(picked, 1):
        m.id = "m%03d" % i
    return picked
