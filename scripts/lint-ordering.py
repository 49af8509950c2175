#!/usr/bin/env python3
"""scripts/lint-ordering.py — every ordering point in the library names its label
and its partner (STYLE.md, "Comments that carry the design", rule 3).

An ordering point ("site") is, in code (comments and string literals removed):
  - an atomic operation with a non-relaxed order (memory_order_acquire,
    _release, _acq_rel, _seq_cst, _consume), one site per statement;
  - a fence: thread_fence(...), std::atomic_thread_fence(...),
    std::atomic_signal_fence(...), compiler_fence();
  - heavy_barrier() (membarrier or the fence flavor's fence);
  - membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) / sys_membarrier(...PRIVATE_EXPEDITED).
Declarations and definitions of those functions are not sites, and
include/grace/detail/atomic.hpp (the seam that forwards the caller's order) is
not scanned for sites.

Rules (each failure prints FILE:LINE: message):
  1. a site carries a label: `[LABEL]` at the start of a comment on one of the
     statement's lines, or at the start of a line of the contiguous `//` comment
     block immediately above the statement (at most MAX_ABOVE lines);
     LABEL is like GP1, RD1', GP2-F;
  2. a label that starts a comment line (an "own" label) has a partner: its
     comment names another label, or another comment names it;
  3. every label named anywhere in a comment exists as an own label of a site
     (no dangling partner).

Modes:
  lint-ordering.py [ROOT]                 lint ROOT/include and ROOT/src
  lint-ordering.py --files F...           lint just these files
  lint-ordering.py --table [ROOT]         print the markdown table of sites
  lint-ordering.py --check-doc DOC [ROOT] fail if DOC's generated table is stale
  lint-ordering.py --write-doc DOC [ROOT] rewrite DOC's generated table
"""
import os
import re
import sys

MAX_ABOVE = 10
SEAM = os.path.join("include", "grace", "detail", "atomic.hpp")
LABEL = r"[A-Z]{1,4}[0-9]+'?(?:-[A-Z]+)?"
LABEL_RE = re.compile(r"\[(" + LABEL + r")\]")
OWN_RE = re.compile(r"^\s*\[(" + LABEL + r")\]")
ORDER_RE = re.compile(r"memory_order_(acquire|release|acq_rel|seq_cst|consume)\b")
OP_RE = re.compile(r"(?:\.|->)(load|store|exchange|compare_exchange_strong|compare_exchange_weak|"
                   r"fetch_add|fetch_sub|fetch_or|fetch_and|fetch_xor)\s*\(")
FENCE_RES = [
    (re.compile(r"\b(?:std::)?atomic_thread_fence\s*\("), "atomic_thread_fence"),
    (re.compile(r"\b(?:std::)?atomic_signal_fence\s*\("), "atomic_signal_fence"),
    (re.compile(r"(?<![\w:])thread_fence\s*\("), "thread_fence"),
    (re.compile(r"\bcompiler_fence\s*\(\s*\)"), "compiler_fence"),
    (re.compile(r"\bheavy_barrier\s*\(\s*\)"), "heavy_barrier"),
    (re.compile(r"membarrier\s*\(\s*MEMBARRIER_CMD_PRIVATE_EXPEDITED\s*\)"), "membarrier"),
]
DEFN_RE = re.compile(r"^\s*(?:inline\s+|static\s+|constexpr\s+)*(?:void|int|bool)\s+"
                     r"(?:thread_fence|compiler_fence|heavy_barrier|sys_membarrier)\s*\(")
FUNC_RE = re.compile(r"([~\w:]+)\s*\([^;]*\)\s*(?:const\s*)?(?:noexcept\s*)?(?:->\s*[\w:<>*&]+\s*)?\{")
NOT_FUNCS = {"if", "for", "while", "switch", "catch", "return", "sizeof", "decltype"}


def split_code_comment(line, in_block):
    """Returns (code, comment, in_block) with string literals blanked."""
    code, comment, i, n = [], [], 0, len(line)
    while i < n:
        if in_block:
            j = line.find("*/", i)
            if j < 0:
                comment.append(line[i:])
                return "".join(code), "".join(comment), True
            comment.append(line[i:j])
            i, in_block = j + 2, False
            continue
        c = line[i]
        if line.startswith("//", i):
            comment.append(line[i + 2:])
            break
        if line.startswith("/*", i):
            in_block, i = True, i + 2
            continue
        if c in "\"'":
            # a digit separator (1'000) is not a character literal
            if c == "'" and i > 0 and line[i - 1].isalnum() and i + 1 < n and line[i + 1].isalnum():
                code.append(c)
                i += 1
                continue
            j = i + 1
            while j < n and line[j] != c:
                j += 2 if line[j] == "\\" else 1
            code.append(c + " " * max(0, min(j, n) - i - 1) + c)
            i = j + 1
            continue
        code.append(c)
        i += 1
    return "".join(code), "".join(comment), in_block


class Site:
    def __init__(self, path, line, kinds, orders, op, func, comment, labels):
        self.path, self.line, self.kinds, self.orders = path, line, kinds, orders
        self.op, self.func, self.comment, self.labels = op, func, comment, labels
        self.partners = []


def analyse(paths, root):
    sites, mentions, owns, problems = [], {}, {}, []
    comment_blocks = []  # (path, line, own labels, all labels)
    for path in paths:
        rel = os.path.relpath(path, root)
        with open(path, encoding="utf-8") as f:
            raw = f.read().split("\n")
        codes, comments, in_block = [], [], False
        for line in raw:
            c, m, in_block = split_code_comment(line, in_block)
            codes.append(c)
            comments.append(m)
        # comment blocks: maximal runs of comment-only lines, plus trailing comments
        n = len(raw)
        i = 0
        while i < n:
            if comments[i] and not codes[i].strip():
                j = i
                while j < n and comments[j] and not codes[j].strip():
                    j += 1
                text = [comments[k] for k in range(i, j)]
                comment_blocks.append((rel, i + 1, j, text))
                i = j
            elif comments[i]:
                comment_blocks.append((rel, i + 1, i + 1, [comments[i]]))
                i += 1
            else:
                i += 1
        for blk_path, start, _end, text in comment_blocks:
            if blk_path != rel:
                continue
            for k, t in enumerate(text):
                om = OWN_RE.match(t)
                if om:
                    owns.setdefault(om.group(1), []).append((rel, start + k))
                for lm in LABEL_RE.finditer(t):
                    mentions.setdefault(lm.group(1), []).append((rel, start + k, bool(om and lm.start() == om.start(0) + t[om.start(0):].find("["))))
        if rel == SEAM:
            continue
        # sites, statement by statement
        stmt_start = 0
        for idx in range(n):
            code = codes[idx]
            prev_code = next((codes[k] for k in range(idx - 1, -1, -1) if codes[k].strip()), "")
            if code.strip() and (not prev_code or prev_code.rstrip().endswith((";", "{", "}", ":"))
                                 or prev_code.lstrip().startswith("#")):
                stmt_start = idx
            if DEFN_RE.match(code):
                continue
            kinds = [name for rx, name in FENCE_RES if rx.search(code)]
            if "thread_fence" in kinds and "atomic_thread_fence" in kinds:
                kinds.remove("thread_fence")
            orders = ORDER_RE.findall(code)
            if not kinds and not orders:
                continue
            # find the end of the statement
            end = idx
            while end < n - 1 and not codes[end].rstrip().endswith((";", "{", "}")):
                end += 1
            stmt = " ".join(codes[k].strip() for k in range(stmt_start, end + 1))
            # already reported for this statement? (multi-line CAS)
            if sites and sites[-1].path == rel and sites[-1].stmt == (stmt_start, end) and not kinds:
                sites[-1].orders += orders
                continue
            # label: comments on the statement's lines, then the block above
            labels, why = [], []
            for k in range(stmt_start, end + 1):
                if comments[k]:
                    labels += [m.group(1) for m in LABEL_RE.finditer(comments[k])][:1] \
                        if OWN_RE.match(comments[k]) else []
                    why.append(comments[k].strip())
            above = []
            k = stmt_start - 1
            while k >= 0 and comments[k] and not codes[k].strip() and stmt_start - k <= MAX_ABOVE:
                above.insert(0, comments[k])
                k -= 1
            for t in above:
                om = OWN_RE.match(t)
                if om:
                    labels.append(om.group(1))
            if not labels:
                # a trailing comment of the statement may start with the label
                pass
            labels = list(dict.fromkeys(labels))
            op = ", ".join(sorted(set(OP_RE.findall(stmt)))) if orders else ""
            func = enclosing_function(codes, stmt_start)
            s = Site(rel, idx + 1, kinds, orders, op, func, " ".join(above + why), labels)
            s.stmt = (stmt_start, end)
            sites.append(s)
    # rules
    own_set = set(owns)
    for s in sites:
        what = ", ".join(s.kinds + (["%s(%s)" % (s.op or "atomic op", "/".join(sorted(set(s.orders))))] if s.orders else []))
        if not s.labels:
            problems.append("%s:%d: unlabeled ordering point: %s (needs a `// [LABEL] ... pairs with [X]` comment)"
                            % (s.path, s.line, what))
    partners_of = {}
    for blk_path, start, _end, text in comment_blocks:
        joined = "\n".join(text)
        labs = [m.group(1) for m in LABEL_RE.finditer(joined)]
        own_here = [m.group(1) for t in text for m in [OWN_RE.match(t)] if m]
        for o in own_here:
            for l in labs:
                if l != o:
                    partners_of.setdefault(o, set()).add(l)
                    partners_of.setdefault(l, set()).add(o)
    # a site's whole comment (the block above and the statement's own
    # comments) pairs its own labels with every other label it names
    for s in sites:
        labs = [m.group(1) for m in LABEL_RE.finditer(s.comment)]
        for o in s.labels:
            for l in labs:
                if l != o:
                    partners_of.setdefault(o, set()).add(l)
                    partners_of.setdefault(l, set()).add(o)
    for lab, where in sorted(mentions.items()):
        if lab not in own_set:
            for p, ln, _ in where:
                problems.append("%s:%d: [%s] is named but no ordering point carries it (missing partner)"
                                % (p, ln, lab))
    for lab, where in sorted(owns.items()):
        if not (partners_of.get(lab, set()) - {lab}):
            p, ln = where[0]
            problems.append("%s:%d: [%s] has no partner: no comment pairs it with another label"
                            % (p, ln, lab))
    for s in sites:
        s.partners = sorted(set().union(*[partners_of.get(l, set()) for l in s.labels]) - set(s.labels)) \
            if s.labels else []
    return sites, sorted(set(problems), key=sort_key)


def sort_key(msg):
    p, ln, _ = msg.split(":", 2)
    return (p, int(ln))


def enclosing_function(codes, idx):
    # Walking up from idx, a line encloses it when its "{" takes the brace
    # depth below every depth seen so far; a block opened and closed on the
    # way (a lambda passed to a call, an earlier if) does not.
    depth = 0
    lowest = 0
    for k in range(idx, -1, -1):
        line = codes[k]
        depth += line.count("}") - line.count("{") if k != idx else 0
        if depth >= lowest:
            continue
        lowest = depth
        # A signature may span lines: try the line with up to two before it.
        m = None
        for back in range(0, 3 if k != idx else 1):
            if k - back < 0:
                break
            joined = " ".join(codes[k - back:k + 1])
            m = FUNC_RE.search(joined)
            # The signature must end on line k (its "{"), not on a line
            # before it (an earlier, one-line function).
            if m and m.end() > len(joined) - len(codes[k]):
                break
            m = None
        if m and m.group(1).split("::")[-1] not in NOT_FUNCS:
            return m.group(1)
    return "(file scope)"


def source_files(root):
    out = []
    for top in ("include", "src"):
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in files:
                if f.endswith((".hpp", ".cpp", ".h", ".cc")):
                    out.append(os.path.join(d, f))
    return sorted(out)


BEGIN = "<!-- BEGIN GENERATED by scripts/lint-ordering.py --write-doc; do not edit -->"
END = "<!-- END GENERATED -->"


def table(sites):
    rows = ["| label | where (file: function) | operation | order | partner(s) | why (the code's comment) |",
            "|---|---|---|---|---|---|"]
    for s in sorted(sites, key=lambda s: (s.labels[0] if s.labels else "~", s.path, s.func, s.line)):
        op = ", ".join(s.kinds) if s.kinds else (s.op or "atomic op")
        order = "/".join(dict.fromkeys(s.orders)) or {"compiler_fence": "compiler only",
                                                       "heavy_barrier": "membarrier / seq_cst fence",
                                                       "membarrier": "membarrier"}.get(s.kinds[0], "seq_cst")
        why = re.sub(r"\s+", " ", s.comment).strip().replace("|", "\\|")
        if len(why) > 220:
            why = why[:217] + "..."
        # no line numbers: the table stays current across unrelated edits
        rows.append("| %s | `%s`: %s | %s | %s | %s | %s |" % (
            " ".join("[%s]" % l for l in s.labels) or "**none**", s.path, s.func, op, order,
            " ".join("[%s]" % p for p in s.partners) or "—", why))
    return "\n".join(rows) + "\n"


def main(argv):
    args = argv[1:]
    mode, doc, files = "lint", None, None
    if args and args[0] in ("--table",):
        mode, args = "table", args[1:]
    elif args and args[0] in ("--check-doc", "--write-doc"):
        if len(args) < 2:
            print(__doc__)
            return 2
        mode, doc, args = args[0][2:], args[1], args[2:]
    elif args and args[0] == "--files":
        files, args = args[1:], []
    elif args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    root = os.path.abspath(args[0] if args else os.path.join(os.path.dirname(__file__), ".."))
    paths = [os.path.abspath(f) for f in files] if files else source_files(root)
    if files:
        root = os.path.commonpath(paths) if len(paths) > 1 else os.path.dirname(paths[0])
    sites, problems = analyse(paths, root)
    if mode == "table":
        sys.stdout.write(table(sites))
        return 0
    if mode in ("check-doc", "write-doc"):
        text = open(doc, encoding="utf-8").read() if os.path.exists(doc) else ""
        if BEGIN not in text or END not in text:
            print("%s: no generated-table markers" % doc, file=sys.stderr)
            return 1
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        new = head + BEGIN + "\n" + table(sites) + END + tail
        if mode == "write-doc":
            open(doc, "w", encoding="utf-8").write(new)
            return 0
        if new != text:
            print("%s: the ordering table is stale; run scripts/lint-ordering.py --write-doc %s"
                  % (doc, doc), file=sys.stderr)
            return 1
        print("lint-ordering: %s is up to date (%d ordering points)" % (doc, len(sites)))
        return 0
    for p in problems:
        print(p)
    print("lint-ordering: %d ordering points, %d labels, %d problem(s)"
          % (len(sites), len({l for s in sites for l in s.labels}), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
