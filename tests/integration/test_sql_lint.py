"""Lint: SQL is never assembled from data.

Scans store/*.c and report/*.c.  The SQL given to sqlite3_prepare*() and
sqlite3_exec() must be built from the program's own text only:

  - string literals (and macros made of them);
  - elements of a file-level constant table whose initialisers are all
    literals (store-sqlite.c's sql_text[], migrations.c's steps[]);
  - the result of a function whose every return is such text (found by the
    lint: migration_step());
  - a parameter of the enclosing function: the function then takes SQL in
    that position (store-sqlite.c's sq_exec()), and every call to it is
    checked the same way;
  - a local buffer or pointer, when every write into it (initialiser,
    assignment, strcpy, strcat, snprintf...) writes such text, and
    printf-style writes put only numbers into it with their conversions: a
    %s (or %c) there must be given such text too.  A buffer handed to
    another function of these files is followed into that function.

Anything else - a value from a report, a struct field, a buffer written by
a function the lint cannot see - fails the test with file:line.  Beyond the
calls, any printf-style call whose format looks like SQL and has a %s must
pass the same check, whatever it writes into.

No exception is needed today: sq_filter_sql() (store-sqlite-query.c), the
placeholder-list builder, appends " AND <column> IN (?, ?...)": the "?"s
are counted from the --domain options, never their values, and its one %s,
the column name, is a literal at every call site, which the lint checks
through prepare_filtered().  WHITELIST is where an exception would go, with
the reason.

The checker is tested on snippets first, so that a lint that passes
everything cannot go unnoticed.
"""
import glob
import os
import re
import unittest

from dmarctest import SOURCE

SINKS = {"sqlite3_prepare": {1}, "sqlite3_prepare_v2": {1}, "sqlite3_prepare_v3": {1},
         "sqlite3_prepare16": {1}, "sqlite3_prepare16_v2": {1}, "sqlite3_prepare16_v3": {1},
         "sqlite3_exec": {1}}

# "file:function": why it may do what the lint would refuse.  Empty: keep it
# that way unless there is no other way, and say why here.
WHITELIST = {}

PRINTF = {"snprintf": (0, 2), "sprintf": (0, 1), "vsnprintf": (0, 2), "vsprintf": (0, 1),
          "buf_printf": (0, 2)}  # name: (destination argument, format argument)
COPY = {"strcpy": (0, 1), "strcat": (0, 1), "strncpy": (0, 1), "strncat": (0, 1),
        "memcpy": (0, 1), "memmove": (0, 1)}
READ_ONLY = {"strlen", "strcmp", "strncmp", "strchr", "strrchr", "strstr", "sizeof", "printf", "fprintf",
             "puts", "fputs", "err_set", "err_prefix"}
# "MAIL FROM" is SMTP's word, in every SES fix text: not SQL's FROM
SQL_WORDS = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|REPLACE|PRAGMA|WHERE|VALUES|(?<!MAIL )FROM|ORDER BY|GROUP BY)\b"
                       r"|\b(AND|OR) \w|\bIN \(")
CONVERSION = re.compile(r"%(?:%|[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?(?:hh|h|ll|l|j|z|t|L)?([diouxXeEfgGcspn]))")
IDENT = r"[A-Za-z_]\w*"
STRING = r'"(?:[^"\\]|\\.)*"'
KEYWORDS = {"if", "while", "for", "switch", "return", "sizeof", "do", "else"}


def strip_comments(src):
    """Comments become spaces (newlines kept); strings and chars stay."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = skip_string(src, i)
            out.append(src[i:j])
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


def skip_string(text, i):
    q, j = text[i], i + 1
    while j < len(text) and text[j] != q:
        j += 2 if text[j] == "\\" else 1
    return j + 1


def split_top(text, start, end, sep):
    """Splits text[start:end] at sep outside strings and brackets:
    [(part, offset)]."""
    depth, i, cur, parts = 0, start, start, []
    while i < end:
        c = text[i]
        if c in "\"'":
            i = skip_string(text, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append((text[cur:i].strip(), cur))
            cur = i + 1
        i += 1
    parts.append((text[cur:end].strip(), cur))
    return parts


def closing(text, i):
    """text[i] opens a bracket: the index after the one that closes it."""
    depth = 0
    while i < len(text):
        c = text[i]
        if c in "\"'":
            i = skip_string(text, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unbalanced brackets")


def call_args(text, paren):
    """text[paren] is the '(' of a call: its arguments [(arg, offset)]."""
    end = closing(text, paren)
    args = split_top(text, paren + 1, end - 1, ",")
    return [] if args == [("", paren + 1)] else args


def statement_end(text, i):
    """Index of the ';' ending the statement that goes on at i."""
    while i < len(text):
        c = text[i]
        if c in "\"'":
            i = skip_string(text, i)
            continue
        if c in "([{":
            i = closing(text, i)
            continue
        if c == ";":
            return i
        i += 1
    return len(text)


def mask(text):
    """text with the inside of strings and chars blanked (same length), to
    look for names and brackets without finding them in literals."""
    out, i = [], 0
    while i < len(text):
        if text[i] in "\"'":
            j = skip_string(text, i)
            out.append(text[i] + " " * (j - i - 2) + text[j - 1:j])
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


class Macros:
    """The file's macros that expand to string literals only: object-like,
    and function-like when given literals."""

    def __init__(self):
        self.plain = set()
        self.funcs = {}  # name: parameter names

    def __contains__(self, name):
        return name in self.plain


def literal(expr, macros):
    """expr is string literals and literal macros, nothing else."""
    params = getattr(macros, "params", ())
    if isinstance(macros, Macros):
        m = re.search(r"\b(%s)\s*\(" % "|".join(map(re.escape, macros.funcs)), mask(expr)) \
            if macros.funcs else None
        while m:
            end = closing(expr, m.end() - 1)
            if not all(literal(a, macros) for a, _ in call_args(expr, m.end() - 1)):
                return False
            expr = expr[:m.start()] + '""' + expr[end:]
            m = re.search(r"\b(%s)\s*\(" % "|".join(map(re.escape, macros.funcs)), mask(expr))
    tokens = re.sub(STRING, " \" ", expr).split()
    return bool(tokens) and all(t == '"' or t in macros or t in params for t in tokens)


class MacroBody(Macros):
    """While checking a function-like macro's body: its parameters count as
    literals (its uses are checked with their arguments)."""

    def __init__(self, macros, params):
        super().__init__()
        self.plain, self.funcs, self.params = macros.plain, macros.funcs, params


def unparen(e):
    while True:
        e = e.strip()
        e2 = re.sub(r"^\(\s*(const\s+)?(unsigned\s+)?char\s*\*\s*\)", "", e).strip()
        if e2.startswith("(") and closing(e2, 0) == len(e2):
            e2 = e2[1:-1]
        if e2 == e:
            return e
        e = e2


def conditional(e):
    """a ? b : c at the top level: [b, c], else None."""
    depth, q = 0, None
    i = 0
    while i < len(e):
        c = e[i]
        if c in "\"'":
            i = skip_string(e, i)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "?" and depth == 0 and q is None:
            q = i
        elif c == ":" and depth == 0 and q is not None:
            return [e[q + 1:i], e[i + 1:]]
        i += 1
    return None


class Function:
    def __init__(self, unit, name, params, body, offset):
        self.unit, self.name, self.params, self.body, self.offset = unit, name, params, body, offset
        self.masked = mask(body)  # where to look for names


def defines(text):
    """The #defines of comment-free text: [(name, "(params)" or "", body)]."""
    return re.findall(r"^[ \t]*#[ \t]*define[ \t]+(%s)(\([^)]*\))?[ \t]+((?:.*\\\n)*.*)$" % IDENT, text, re.M)


class Unit:
    """One C file: its literal macros (its own and the headers'), constant
    tables and functions."""

    def __init__(self, path, text, header_defines=()):
        self.path = path
        self.text = strip_comments(text)
        defines_ = list(header_defines) + defines(self.text)
        self.macros = Macros()
        changed = True
        while changed:
            changed = False
            for name, args, body in defines_:
                body = body.replace("\\\n", " ")
                if name in self.macros or name in self.macros.funcs:
                    continue
                if args:
                    params = tuple(a.strip() for a in args[1:-1].split(","))
                    if literal(body, MacroBody(self.macros, params)):
                        self.macros.funcs[name] = params
                        changed = True
                elif literal(body, self.macros):
                    self.macros.plain.add(name)
                    changed = True
        # the directives are done with: blank them (offsets and lines kept)
        self.text = re.sub(r"^[ \t]*#(?:.*\\\n)*.*$", lambda m: re.sub(r"[^\n]", " ", m.group(0)),
                           self.text, flags=re.M)
        self.masked = mask(self.text)
        self.tables = set()
        for m in re.finditer(r"\bconst\s+char\s*\*\s*const\s+(%s)\s*\[[^\]]*\]\s*=\s*\{" % IDENT, self.masked):
            brace = m.end() - 1
            values = [re.sub(r"^\[[^\]]*\]\s*=\s*", "", v)
                      for v, _ in split_top(self.text, brace + 1, closing(self.text, brace) - 1, ",")]
            if all(not v or literal(v, self.macros) for v in values):
                self.tables.add(m.group(1))
        self.functions = {}
        for m in re.finditer(r"^(%s)\s*\(" % IDENT, self.masked, re.M):
            name, paren = m.group(1), m.end() - 1
            if name in KEYWORDS:
                continue
            after = closing(self.text, paren)
            brace = re.match(r"\s*\{", self.text[after:])
            if not brace:
                continue
            start = after + brace.end() - 1
            params = []
            for p, _ in call_args(self.text, paren):
                fp = re.search(r"\(\s*\*\s*(%s)\s*\)" % IDENT, p)
                ids = re.findall(IDENT, p.split("[")[0])
                params.append(fp.group(1) if fp else (ids[-1] if ids else ""))
            end = closing(self.text, start)
            self.functions[name] = Function(self, name, params, self.text[start:end], start)

    def line(self, offset):
        return self.text.count("\n", 0, offset) + 1


class Lint:
    def __init__(self, units):
        self.units = units
        self.functions = {f.name: f for u in units for f in u.functions.values()}
        self.constant_funcs = set()

    def where(self, fn, offset):
        path = fn.unit.path
        if path.startswith(SOURCE):
            path = os.path.relpath(path, SOURCE)
        return "%s:%d (%s)" % (path, fn.unit.line(fn.offset + offset), fn.name)

    def problem(self, fn, offset, text):
        if "%s:%s" % (os.path.basename(fn.unit.path), fn.name) not in WHITELIST:
            self.problems.add("%s: %s" % (self.where(fn, offset), text))
        return False

    def own_text(self, fn, expr):
        """Literal, constant table element, constant function result."""
        e = unparen(expr)
        if literal(e, fn.unit.macros) or e == "NULL":
            return True
        m = re.match(r"^(%s)\s*\[" % IDENT, e)
        if m and closing(e, m.end() - 1) == len(e) and m.group(1) in fn.unit.tables:
            return True
        m = re.match(r"^(%s)\s*\(" % IDENT, e)
        return bool(m and closing(e, m.end() - 1) == len(e) and m.group(1) in self.constant_funcs)

    def safe(self, fn, expr, offset, why):
        """Is expr SQL text of the program's own?  A problem if not."""
        e = unparen(expr)
        if self.own_text(fn, e):
            return True
        parts = conditional(e)
        if parts:
            return all([self.safe(fn, p, offset, why) for p in parts])
        m = re.match(r"^(%s)(\s*\+\s*\w+)?$" % IDENT, e)
        if m:
            var = m.group(1)
            if var in fn.params:
                idx = fn.params.index(var)
                if idx not in self.sinks.setdefault(fn.name, set()):
                    self.sinks[fn.name].add(idx)
                    self.changed = True
                return True
            if self.local(fn, var, offset, why):
                return True
        return self.problem(fn, offset, "%s: `%s` is not SQL text of the program's own" % (why, e))

    def declaration(self, fn, var):
        """(offset, initialiser or None) of a local char array or pointer."""
        for m in re.finditer(r"\b(?:const\s+)?char\b", fn.masked):
            end = statement_end(fn.body, m.end())
            for decl, off in split_top(fn.body, m.end(), end, ","):
                dm = re.match(r"^[\s*]*(%s)\s*(\[[^\]]*\])?\s*(=\s*(.*))?$" % IDENT, decl, re.S)
                if dm and dm.group(1) == var:
                    return off, dm.group(4)
        return None

    def local(self, fn, var, offset, why):
        key = (fn.name, var)
        if key in self.checking:
            return True
        decl = self.declaration(fn, var)
        if decl is None:
            return False
        self.checking.add(key)
        ok = True
        if decl[1] is not None and not decl[1].strip().startswith("{"):
            ok &= self.safe(fn, decl[1], decl[0], "initialiser of %s" % var)
        return self.writes(fn, var) and ok

    def writes(self, fn, var):
        """Every write into var in fn is SQL text of the program's own."""
        ok = True
        v = re.escape(var)
        for m in re.finditer(r"(?<![\w.>])%s\s*(?:\[[^\]]*\]\s*)?=(?!=)" % v, fn.masked):
            val = fn.body[m.end():statement_end(fn.body, m.end())]
            ok &= self.safe(fn, val, m.start(), "assignment to %s" % var)
        for m in re.finditer(r"\b(%s)\s*\(" % IDENT, fn.masked):
            name = m.group(1)
            if name in KEYWORDS - {"sizeof"}:
                continue
            args = call_args(fn.body, m.end() - 1)
            for i, (a, _) in enumerate(args):
                if not re.match(r"^&?\s*%s(\s*\+\s*[\w()]+)?$" % v, unparen(a)):
                    continue
                if name in PRINTF and i == PRINTF[name][0]:
                    ok &= self.printf_ok(fn, args, PRINTF[name][1], m.start(), var)
                elif name in COPY and i == COPY[name][0]:
                    if len(args) > COPY[name][1]:
                        ok &= self.safe(fn, args[COPY[name][1]][0], m.start(), "%s into %s" % (name, var))
                elif name in READ_ONLY or i in self.sinks.get(name, set()):
                    pass
                elif name in self.functions:
                    if (name, i) not in self.buffer_params:
                        self.buffer_params.add((name, i))
                        self.changed = True
                else:
                    ok &= self.problem(fn, m.start(), "%s is handed to %s(), which the lint cannot check"
                                       % (var, name))
        return ok

    def printf_ok(self, fn, args, fmt_index, offset, var):
        if fmt_index >= len(args):
            return True
        fmt = args[fmt_index][0]
        if not literal(fmt, fn.unit.macros):
            return self.problem(fn, offset, "the format written into %s is not a literal" % var)
        text = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', fmt))
        ok, argi = True, fmt_index + 1
        for conv in CONVERSION.finditer(text):
            if conv.group(0) == "%%":
                continue
            argi += [conv.group(1), conv.group(2)].count("*")
            if conv.group(3) in "sc":
                if argi < len(args):
                    ok &= self.safe(fn, args[argi][0], offset, "%%%s into %s" % (conv.group(3), var))
                else:
                    ok &= self.problem(fn, offset, "%%%s into %s from arguments the lint cannot see"
                                       % (conv.group(3), var))
            argi += 1
        return ok

    def find_constant_funcs(self):
        """Functions whose every return is literal text (or NULL)."""
        changed = True
        while changed:
            changed = False
            for f in self.functions.values():
                if f.name in self.constant_funcs:
                    continue
                rets = [f.body[m.end():statement_end(f.body, m.end())]
                        for m in re.finditer(r"\breturn\b", f.masked)]
                if rets and all(self.own_text(f, r) for r in rets):
                    self.constant_funcs.add(f.name)
                    changed = True

    def run(self):
        self.sinks = {k: set(v) for k, v in SINKS.items()}
        self.buffer_params = set()
        self.find_constant_funcs()
        self.changed = True
        rounds = 0
        while self.changed:
            rounds += 1
            assert rounds < 50, "the lint does not settle"
            self.changed = False
            self.problems = set()
            self.checking = set()
            for fn in self.functions.values():
                self.check_function(fn)
        return sorted(self.problems)

    def check_function(self, fn):
        for m in re.finditer(r"\b(%s)\s*\(" % IDENT, fn.masked):
            name = m.group(1)
            if name in KEYWORDS or fn.masked[:m.start()].rstrip().endswith(("->", ".")):
                continue  # a member: s->ops->open(...)
            args = None
            if name in self.sinks:
                args = call_args(fn.body, m.end() - 1)
                for i in sorted(self.sinks[name]):
                    if i < len(args):
                        self.safe(fn, args[i][0], m.start(), "SQL given to %s()" % name)
            if name in PRINTF:
                # printf-style SQL, whatever it is written into
                args = args or call_args(fn.body, m.end() - 1)
                fi = PRINTF[name][1]
                if fi < len(args) and "%" in args[fi][0] and SQL_WORDS.search(args[fi][0]):
                    dest = re.findall(IDENT, args[0][0]) if args else []
                    self.printf_ok(fn, args, fi, m.start(), dest[0] if dest else "?")
        for name, i in sorted(self.buffer_params):
            if name == fn.name and i < len(fn.params):
                self.checking.add((fn.name, fn.params[i]))
                self.writes(fn, fn.params[i])


def lint_sources(sources, headers=()):
    """sources: {path: text}, headers: texts whose macros they may use.
    Returns the problems found."""
    return Lint(units(sources, headers)).run()


def units(sources, headers=()):
    hdefs = [d for h in headers for d in defines(strip_comments(h))]
    return [Unit(p, t, hdefs) for p, t in sorted(sources.items())]


def project_sources():
    out = {}
    for d in ("store", "report"):
        for p in glob.glob(os.path.join(SOURCE, d, "*.c")):
            with open(p, encoding="utf-8") as f:
                out[p] = f.read()
    return out


def project_headers():
    """Every header of the project: the macros the sources may use."""
    out = []
    for d in ("common", "parser", "store", "ingest", "report"):
        for p in sorted(glob.glob(os.path.join(SOURCE, d, "*.h"))):
            with open(p, encoding="utf-8") as f:
                out.append(f.read())
    return out


class Checker(unittest.TestCase):
    """The lint itself, on snippets: it must catch SQL built from data."""

    def assertCaught(self, src, *words):
        problems = lint_sources({"snippet.c": src})
        self.assertTrue(problems, "not caught:\n" + src)
        for w in words:
            self.assertIn(w, "\n".join(problems))

    def assertClean(self, src):
        self.assertEqual(lint_sources({"snippet.c": src}), [])

    def test_printf_of_a_value_into_sql(self):
        self.assertCaught('''
int
find(sqlite3 *db, const struct dmarc_meta *m)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT id FROM reports WHERE domain = '%s'",
	    m->domain);
	return sqlite3_prepare_v2(db, sql, -1, &st, NULL);
}
''', "snippet.c:7", "m->domain")

    def test_strcat_of_a_value(self):
        self.assertCaught('''
int
del(sqlite3 *db, const char *id_from_report)
{
	char sql[256] = "DELETE FROM reports WHERE report_id = ";

	strcat(sql, r->report_id);
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}
''', "r->report_id")

    def test_through_a_wrapper(self):
        self.assertCaught('''
static int
exec_sql(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

int
purge(sqlite3 *db, const struct dmarc_meta *m)
{
	exec_sql(db, "BEGIN");
	return exec_sql(db, m->org_name);
}
''', "m->org_name", "(purge)")

    def test_buffer_from_an_unknown_function(self):
        self.assertCaught('''
int
q(sqlite3 *db)
{
	char sql[100];

	read_sql_from_somewhere(sql, sizeof(sql));
	return sqlite3_prepare_v2(db, sql, -1, &st, NULL);
}
''', "read_sql_from_somewhere")

    def test_sql_printf_anywhere(self):
        self.assertCaught('''
void
build(char *out, size_t n, const struct dmarc_record *r)
{
	snprintf(out, n, "INSERT INTO records VALUES ('%s')", r->source_ip);
}
''', "r->source_ip")

    def test_clean_code(self):
        self.assertClean('''
#define ONE "SELECT 1"
#define TWO ONE " UNION SELECT 2"
static const char *const sql_text[] = {
    [0] = "BEGIN",
    [1] = TWO,
};

static const char *const steps[] = {"CREATE TABLE t (a)", "CREATE INDEX i ON t (a)"};

const char *
migration_step(int v)
{
	if (v < 1 || v > 2)
		return NULL;
	return steps[v - 1];
}

static int
exec_sql(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int
filter(char *sql, size_t len, const char *column, int n)
{
	size_t used = strlen(sql);

	used += snprintf(sql + used, len - used, " AND %s IN (?", column);
	for (int i = 1; i < n; i++)
		used += snprintf(sql + used, len - used, ", ?");
	return 0;
}

int
f(sqlite3 *db, int v, int n)
{
	char setv[64], sql[512] = "SELECT a FROM t WHERE b = ?";
	const char *q = v ? "SELECT 1" : TWO;

	snprintf(setv, sizeof(setv), "PRAGMA user_version = %d", v);
	exec_sql(db, setv);
	exec_sql(db, sql_text[v]);
	exec_sql(db, migration_step(v));
	filter(sql, sizeof(sql), "domain", n);
	strcat(sql, " ORDER BY a");
	sqlite3_prepare_v2(db, q, -1, &st, NULL);
	return sqlite3_prepare_v2(db, sql, -1, &st, NULL);
}
''')

    def test_column_name_from_data_through_a_builder(self):
        self.assertCaught('''
static int
filter(char *sql, size_t len, const char *column)
{
	snprintf(sql, len, " AND %s IN (?)", column);
	return 0;
}

int
f(sqlite3 *db, const struct dmarc_meta *m)
{
	char sql[512] = "SELECT a FROM t WHERE 1";

	filter(sql, sizeof(sql), m->domain);
	return sqlite3_prepare_v2(db, sql, -1, &st, NULL);
}
''', "m->domain")


class ProjectSQL(unittest.TestCase):
    """store/ and report/ as they are."""

    def test_no_sql_assembled_from_data(self):
        sources = project_sources()
        self.assertTrue(any(p.endswith("store-sqlite.c") for p in sources))
        problems = lint_sources(sources, project_headers())
        self.assertEqual(problems, [], "SQL assembled from data:\n" + "\n".join(problems))

    def test_every_statement_is_seen(self):
        # the lint must actually find the calls it is about
        lint = Lint(units(project_sources(), project_headers()))
        self.assertEqual(lint.run(), [])
        # the wrappers and builders, found by the lint itself
        self.assertIn(1, lint.sinks.get("sq_exec", set()))
        self.assertIn(2, lint.sinks.get("sq_filter_sql", set()))
        self.assertIn("migration_step", lint.constant_funcs)
        self.assertIn("sql_text", lint.functions["sq_open"].unit.tables)
        n = sum(len(re.findall(r"\bsqlite3_(prepare\w*|exec)\s*\(", u.text)) for u in lint.units)
        self.assertGreaterEqual(n, 5)


if __name__ == "__main__":
    unittest.main()
