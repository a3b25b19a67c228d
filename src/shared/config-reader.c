/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <ini.h>
#include <inttypes.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "config-reader.h"
#include "utf8.h"
#include "macro.h"

/* ---- values as written on one line ---- */

typedef enum ValueType {
        VALUE_BOOL,
        VALUE_INT,
        VALUE_STRING,
        VALUE_ARRAY,
} ValueType;

typedef struct Value {
        ValueType type;
        bool boolean;
        int64_t integer;
        char *string;
        char **strv;
        size_t n_strv;
} Value;

static void value_done(Value *v) {
        free(v->string);
        strv_free(v->strv, v->n_strv);
        *v = (Value) {};
}

/* One line after the lexical pass. */
typedef enum LineType {
        LINE_BLANK,
        LINE_TABLE,
        LINE_PAIR,
} LineType;

typedef struct Line {
        LineType type;
        bool array;             /* [[...]] */
        bool quoted;            /* the table name was a "string" */
        char *name;             /* table name or key */
        Value value;
} Line;

static void line_done(Line *l) {
        free(l->name);
        value_done(&l->value);
}

/* ---- the lexer: a cursor over one line, and why it stopped ---- */

typedef struct Lexer {
        const char *p;
        bool open_array;        /* stopped in an array that continues on the next line */
        char message[256];
} Lexer;

static int lex_fail(Lexer *l, const char *format, ...) _printf_(2, 3);
static int lex_fail(Lexer *l, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        vsnprintf(l->message, sizeof(l->message), format, ap);
        va_end(ap);
        return -EINVAL;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool is_bare_key_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-';
}

/* Characters of an unquoted value (booleans, numbers and the things we refuse). */
static bool is_word_char(char c) {
        return is_bare_key_char(c) || c == '+' || c == '.' || c == ':';
}

static void skip_blank(Lexer *l) {
        while (is_blank(*l->p))
                l->p++;
}

/* Nothing meaningful left: end of line or a comment. */
static bool at_end(const Lexer *l) {
        return *l->p == '\0' || *l->p == '#';
}

/* A "basic string"; l->p is at the opening quote. */
static int lex_string(Lexer *l, char **ret) {
        _cleanup_free_ char *s = NULL;
        const char *p = l->p + 1;
        size_t n = 0;

        if (startswith(l->p, "\"\"\""))
                return lex_fail(l, "multi-line strings (\"\"\") are not supported");

        /* Escapes only shrink, so the decoded string fits in the source's length. */
        s = malloc(strlen(p) + 1);
        if (!s)
                return -ENOMEM;

        for (;;) {
                char c = *p;

                if (c == '\0')
                        return lex_fail(l, "unterminated string (missing closing '\"')");
                if (c == '"')
                        break;
                if (c != '\\') {
                        s[n++] = c;
                        p++;
                        continue;
                }

                c = p[1];
                switch (c) {
                case '"':
                case '\\':
                        s[n++] = c;
                        p += 2;
                        break;
                case 'n':
                        s[n++] = '\n';
                        p += 2;
                        break;
                case 't':
                        s[n++] = '\t';
                        p += 2;
                        break;
                case 'r':
                        s[n++] = '\r';
                        p += 2;
                        break;
                case 'u':
                case 'U': {
                        unsigned digits = c == 'u' ? 4 : 8;
                        uint32_t cp = 0;

                        for (unsigned i = 0; i < digits; i++) {
                                int h = unhexchar(p[2 + i]);
                                if (h < 0)
                                        return lex_fail(l, "invalid escape: \\%c needs %u hex digits", c, digits);
                                cp = cp << 4 | (uint32_t) h;
                        }
                        if (cp == 0)
                                return lex_fail(l, "\\u0000 is not allowed in strings");
                        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                                return lex_fail(l, "invalid Unicode escape \\%c%.*s", c, (int) digits, p + 2);
                        n += utf8_encode(cp, s + n);
                        p += 2 + digits;
                        break;
                }
                case '\0':
                        return lex_fail(l, "unterminated string (missing closing '\"')");
                default:
                        return lex_fail(l, "invalid escape '\\%c' in string (valid: \\\" \\\\ \\n \\t \\r \\uXXXX)", c);
                }
        }

        s[n] = '\0';
        l->p = p + 1;
        *ret = TAKE_PTR(s);
        return 0;
}

/* A one-line array of strings; l->p is at '['. */
static int lex_array(Lexer *l, Value *ret) {
        _cleanup_(value_done) Value v = { .type = VALUE_ARRAY };
        static const char multi_line[] = "multi-line arrays are not supported (close the array with ']' on the same line)";
        int r;

        l->p++;
        for (;;) {
                _cleanup_free_ char *s = NULL;

                skip_blank(l);
                if (at_end(l)) {
                        l->open_array = true;
                        return lex_fail(l, "%s", multi_line);
                }
                if (*l->p == ']')
                        break;

                switch (*l->p) {
                case '"':
                        break;
                case '[':
                        return lex_fail(l, "nested arrays are not supported");
                case '{':
                        return lex_fail(l, "inline tables are not supported");
                case '\'':
                        return lex_fail(l, "single-quoted strings are not supported; use \"double quotes\"");
                case ',':
                        return lex_fail(l, "empty array element");
                default:
                        return lex_fail(l, "arrays may only hold \"double-quoted strings\"");
                }

                r = lex_string(l, &s);
                if (r < 0)
                        return r;
                r = strv_push(&v.strv, &v.n_strv, s);
                if (r < 0)
                        return r;

                skip_blank(l);
                if (*l->p == ',') {
                        l->p++;
                        continue;
                }
                if (*l->p == ']')
                        break;
                if (at_end(l)) {
                        l->open_array = true;
                        return lex_fail(l, "%s", multi_line);
                }
                return lex_fail(l, "expected ',' or ']' after an array element");
        }

        l->p++;
        *ret = v;
        v = (Value) {};
        return 0;
}

/* true, false, a decimal integer, or a clear refusal of other bare values. */
static int lex_word(Lexer *l, Value *ret) {
        char word[64];
        const char *digits;
        size_t n = 0;

        while (is_word_char(l->p[n]))
                n++;
        if (n == 0)
                return lex_fail(l, "invalid value (strings must be in \"double quotes\")");
        if (n >= sizeof(word))
                return lex_fail(l, "invalid value '%.20s...' (strings must be in \"double quotes\")", l->p);
        memcpy(word, l->p, n);
        word[n] = '\0';

        if (streq(word, "true") || streq(word, "false")) {
                *ret = (Value) { .type = VALUE_BOOL, .boolean = word[0] == 't' };
                l->p += n;
                return 0;
        }

        digits = word[0] == '+' || word[0] == '-' ? word + 1 : word;
        if (streq(digits, "inf") || streq(digits, "nan"))
                return lex_fail(l, "floating-point numbers are not supported");
        if (!is_digit(digits[0]))
                return lex_fail(l, "invalid value '%s' (strings must be in \"double quotes\")", word);

        if (strspn(digits, "0123456789") == strlen(digits)) {
                char *end;
                long long v;

                if (digits[0] == '0' && digits[1] != '\0')
                        return lex_fail(l, "leading zeros are not allowed in integers");
                errno = 0;
                v = strtoll(word, &end, 10);
                if (errno == ERANGE || *end != '\0')
                        return lex_fail(l, "integer %s is out of range", word);
                *ret = (Value) { .type = VALUE_INT, .integer = v };
                l->p += n;
                return 0;
        }

        if (strchr(digits, ':') || strchr(digits, '-'))
                return lex_fail(l, "dates and times are not supported");
        if (digits[0] == '0' && strchr("xob", digits[1]))
                return lex_fail(l, "only decimal integers are supported");
        if (strchr(digits, '_'))
                return lex_fail(l, "underscores in numbers are not supported");
        if (strpbrk(digits, ".eE"))
                return lex_fail(l, "floating-point numbers are not supported");
        return lex_fail(l, "invalid number '%s'", word);
}

static int lex_value(Lexer *l, Value *ret) {
        int r;

        switch (*l->p) {
        case '"':
                *ret = (Value) { .type = VALUE_STRING };
                r = lex_string(l, &ret->string);
                return r;
        case '\'':
                return lex_fail(l, "single-quoted strings are not supported; use \"double quotes\"");
        case '[':
                return lex_array(l, ret);
        case '{':
                return lex_fail(l, "inline tables are not supported");
        default:
                return lex_word(l, ret);
        }
}

/* [name], [[name]], [["quoted"]]; l->p is at the first '['. */
static int lex_table_header(Lexer *l, Line *ret) {
        size_t n;
        int r;

        ret->type = LINE_TABLE;
        l->p++;
        ret->array = *l->p == '[';
        if (ret->array)
                l->p++;
        skip_blank(l);

        if (*l->p == '"') {
                r = lex_string(l, &ret->name);
                if (r < 0)
                        return r;
                ret->quoted = true;
        } else if (*l->p == '\'') {
                return lex_fail(l, "single-quoted strings are not supported; use \"double quotes\"");
        } else {
                n = 0;
                while (is_bare_key_char(l->p[n]))
                        n++;
                if (n == 0)
                        return lex_fail(l, *l->p == ']' ? "empty table name" :
                                        "invalid table name (use letters, digits, '_', '-', or a \"quoted path\")");
                ret->name = memdup_str(l->p, n);
                if (!ret->name)
                        return -ENOMEM;
                l->p += n;
        }

        skip_blank(l);
        if (*l->p == '.')
                return lex_fail(l, "dotted table names are not supported");
        if (ret->array) {
                if (!startswith(l->p, "]]"))
                        return lex_fail(l, "expected ']]' to close the table header");
                l->p += 2;
        } else {
                if (*l->p != ']')
                        return lex_fail(l, "expected ']' to close the table header");
                l->p++;
        }

        skip_blank(l);
        if (!at_end(l))
                return lex_fail(l, "unexpected text after the table header");
        return 0;
}

/* key = value # comment */
static int lex_pair(Lexer *l, Line *ret) {
        const char *start = l->p;
        size_t n = 0;
        int r;

        ret->type = LINE_PAIR;
        if (*l->p == '"' || *l->p == '\'')
                return lex_fail(l, "quoted keys are not supported");
        while (is_bare_key_char(l->p[n]))
                n++;
        if (n == 0) {
                if (*l->p == '=')
                        return lex_fail(l, "missing key before '='");
                return lex_fail(l, "expected 'key = value' or a [section]");
        }
        ret->name = memdup_str(l->p, n);
        if (!ret->name)
                return -ENOMEM;
        l->p += n;

        skip_blank(l);
        if (*l->p == '.')
                return lex_fail(l, "dotted keys are not supported");
        if (*l->p != '=') {
                n = strcspn(start, "#");
                while (n > 0 && is_blank(start[n - 1]))
                        n--;
                return lex_fail(l, "expected 'key = value', found '%.*s'", (int) MIN(n, (size_t) 60), start);
        }
        l->p++;

        skip_blank(l);
        if (at_end(l))
                return lex_fail(l, "missing value for '%s'", ret->name);
        r = lex_value(l, &ret->value);
        if (r < 0)
                return r;

        skip_blank(l);
        if (!at_end(l))
                return lex_fail(l, "unexpected text after the value of '%s'", ret->name);
        return 0;
}

static int lex_line(Lexer *l, Line *ret) {
        skip_blank(l);
        if (at_end(l)) {
                ret->type = LINE_BLANK;
                return 0;
        }
        if (*l->p == '[')
                return lex_table_header(l, ret);
        return lex_pair(l, ret);
}

/* ---- the canonical line handed to inih ---- */

typedef struct Canon {
        char *buf;
        size_t size;
        size_t len;
        bool overflow;
} Canon;

static void canon_add(Canon *c, const char *s, size_t n) {
        if (c->overflow || n >= c->size - c->len) {
                c->overflow = true;
                return;
        }
        memcpy(c->buf + c->len, s, n);
        c->len += n;
        c->buf[c->len] = '\0';
}

static void canon_adds(Canon *c, const char *s) {
        canon_add(c, s, strlen(s));
}

/* Re-escaped so inih passes it through untouched: no ';' (inih cuts values at
 * " ;"), no control characters. */
static void canon_string(Canon *c, const char *s) {
        canon_add(c, "\"", 1);
        for (; *s; s++) {
                unsigned char u = (unsigned char) *s;
                char esc[8];

                switch (u) {
                case '"':
                        canon_adds(c, "\\\"");
                        break;
                case '\\':
                        canon_adds(c, "\\\\");
                        break;
                case '\n':
                        canon_adds(c, "\\n");
                        break;
                case '\r':
                        canon_adds(c, "\\r");
                        break;
                case '\t':
                        canon_adds(c, "\\t");
                        break;
                case ';':
                        canon_adds(c, "\\u003b");
                        break;
                default:
                        if (u < 0x20 || u == 0x7F) {
                                snprintf(esc, sizeof(esc), "\\u%04x", u);
                                canon_adds(c, esc);
                        } else
                                canon_add(c, s, 1);
                }
        }
        canon_add(c, "\"", 1);
}

static void canon_value(Canon *c, const Value *v) {
        char num[32];

        switch (v->type) {
        case VALUE_BOOL:
                canon_adds(c, v->boolean ? "true" : "false");
                break;
        case VALUE_INT:
                snprintf(num, sizeof(num), "%" PRIi64, v->integer);
                canon_adds(c, num);
                break;
        case VALUE_STRING:
                canon_string(c, v->string);
                break;
        case VALUE_ARRAY:
                canon_add(c, "[", 1);
                for (size_t i = 0; i < v->n_strv; i++) {
                        if (i > 0)
                                canon_add(c, ",", 1);
                        canon_string(c, v->strv[i]);
                }
                canon_add(c, "]", 1);
                break;
        }
}

/* ---- the reader inih pulls lines from, and the handler it calls ---- */

/* The section name inih reports for keys under a rejected table header. */
#define REJECTED_SECTION "-"

typedef struct Reader {
        ConfigDocument *doc;
        ConfigErrors *errors;
        const ConfigTableSchema *schema;
        const char *p, *end;    /* the unread rest of the file */
        unsigned line;          /* of the line inih is handling */
        bool in_table;          /* false before the first table and after a rejected header */
        bool in_open_array;     /* after a multi-line array was reported: skip its rest */
        size_t current_index;   /* the table keys go to, when in_table */
        bool stop;
        int error;              /* -ENOMEM */
} Reader;

static void reader_error(Reader *r, const char *format, ...) _printf_(2, 3);
static void reader_error(Reader *r, const char *format, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int k;

        va_start(ap, format);
        k = vasprintf(&msg, format, ap);
        va_end(ap);
        if (k < 0 || config_document_error(r->doc, r->errors, r->line, "%s", msg) == -ENOMEM) {
                r->error = -ENOMEM;
                r->stop = true;
        }
}

/* After a rejected line: a key line taints its table; a header line (or what
 * starts like one) closes the current table, so that inih's section and ours
 * cannot drift and the keys after it are not taken for the previous table's. */
static void reader_reject_line(Reader *r, const char *line, size_t n, char *buf, size_t size) {
        size_t i = 0;

        while (i < n && is_blank(line[i]))
                i++;
        if (i < n && line[i] == '[') {
                r->in_table = false;
                snprintf(buf, size, "[%s]", REJECTED_SECTION);
        } else {
                buf[0] = '\0';
                if (r->in_table)
                        r->doc->tables[r->current_index].has_errors = true;
        }
}

static const ConfigTableSchema *schema_find(const ConfigTableSchema *schema, const char *name, bool quoted) {
        for (const ConfigTableSchema *s = schema; s->keys; s++) {
                if (quoted ? s->kind == CONFIG_TABLE_PATH : s->kind != CONFIG_TABLE_PATH && streq(s->name, name))
                        return s;
        }
        return NULL;
}

static int schema_list(const ConfigTableSchema *schema, char **ret) {
        _cleanup_free_ char *list = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&list, &size);
        if (!f)
                return -ENOMEM;
        for (const ConfigTableSchema *s = schema; s->keys; s++) {
                fputs(s == schema ? "" : ", ", f);
                switch (s->kind) {
                case CONFIG_TABLE_SECTION:
                        fprintf(f, "[%s]", s->name);
                        break;
                case CONFIG_TABLE_ARRAY:
                        fprintf(f, "[[%s]]", s->name);
                        break;
                case CONFIG_TABLE_PATH:
                        fputs("[[\"/dir/\"]]", f);
                        break;
                }
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(list);
        return 0;
}

/* Checks a header against the schema and opens its table; returns the table's
 * index, or -EINVAL (error recorded). */
static ssize_t reader_open_table(Reader *r, const Line *h) {
        const ConfigTableSchema *s;
        ConfigDocument *d = r->doc;
        ConfigTable *tables;
        const char *o = h->array ? "[[" : "[", *c = h->array ? "]]" : "]", *q = h->quoted ? "\"" : "";

        s = schema_find(r->schema, h->name, h->quoted);
        if (!s) {
                _cleanup_free_ char *list = NULL;

                if (schema_list(r->schema, &list) < 0)
                        return -ENOMEM;
                reader_error(r, "unknown section %s%s%s%s%s%s%s", o, q, h->name, q, c,
                             isempty(list) ? "" : "; expected ", strempty(list));
                return -EINVAL;
        }
        if (s->kind == CONFIG_TABLE_SECTION && h->array) {
                reader_error(r, "'%s' is a single table; write [%s]", s->name, s->name);
                return -EINVAL;
        }
        if (s->kind == CONFIG_TABLE_ARRAY && !h->array) {
                reader_error(r, "'%s' is an array of tables; write [[%s]]", s->name, s->name);
                return -EINVAL;
        }
        if (s->kind == CONFIG_TABLE_PATH && !h->array) {
                reader_error(r, "a directory block needs double brackets: [[\"%s\"]]", h->name);
                return -EINVAL;
        }
        if (s->kind == CONFIG_TABLE_SECTION)
                for (size_t i = 0; i < d->n_tables; i++)
                        if (d->tables[i].schema == s) {
                                reader_error(r, "duplicate section [%s] (first at line %u)", s->name, d->tables[i].line);
                                return -EINVAL;
                        }
        if (d->n_tables >= CONFIG_TABLES_MAX) {
                reader_error(r, "too many tables (at most %d)", CONFIG_TABLES_MAX);
                return -EINVAL;
        }

        tables = reallocarray(d->tables, d->n_tables + 1, sizeof(ConfigTable));
        if (!tables)
                return -ENOMEM;
        d->tables = tables;
        tables[d->n_tables] = (ConfigTable) { .schema = s, .line = r->line };
        if (h->quoted) {
                tables[d->n_tables].path = strdup(h->name);
                if (!tables[d->n_tables].path)
                        return -ENOMEM;
        }
        return (ssize_t) d->n_tables++;
}

/* Whether text looks like the rest of a multi-line array that was already
 * reported ("a", / ] / blank), so it is skipped instead of giving more errors;
 * *open stays true until a line closes the array with ']'. */
static bool array_continuation(const char *text, bool *open) {
        Lexer l = { .p = text };

        skip_blank(&l);
        if (at_end(&l))
                return true;
        if (*l.p != '"' && *l.p != ']' && *l.p != ',')
                return false;
        while (!at_end(&l)) {
                if (*l.p == '"') {
                        _cleanup_free_ char *s = NULL;

                        if (lex_string(&l, &s) < 0)
                                return true;
                        continue;
                }
                if (*l.p == ']')
                        *open = false;
                l.p++;
        }
        return true;
}

/* Validates one physical line and writes what inih should see into buf. */
static void reader_canonicalize(Reader *r, const char *text, char *buf, size_t size) {
        _cleanup_(line_done) Line parsed = {};
        Lexer l = { .p = text };
        Canon c = { .buf = buf, .size = size };
        char section[32];
        ssize_t index;
        int k;

        if (r->in_open_array && array_continuation(text, &r->in_open_array))
                return;
        r->in_open_array = false;

        k = lex_line(&l, &parsed);
        if (k == -ENOMEM) {
                r->error = -ENOMEM;
                r->stop = true;
                return;
        }
        if (k < 0) {
                reader_error(r, "%s", l.message);
                reader_reject_line(r, text, strlen(text), buf, size);
                r->in_open_array = l.open_array;
                return;
        }

        switch (parsed.type) {
        case LINE_BLANK:
                return;

        case LINE_TABLE:
                /* inih truncates section names at 49 characters and the first
                 * ']', so it sees the table's index instead of its name. */
                index = reader_open_table(r, &parsed);
                if (index == -ENOMEM) {
                        r->error = -ENOMEM;
                        r->stop = true;
                        return;
                }
                if (index < 0) {
                        r->in_table = false;
                        canon_adds(&c, "[" REJECTED_SECTION "]");
                        return;
                }
                r->in_table = true;
                r->current_index = (size_t) index;
                snprintf(section, sizeof(section), "[%zd]", index);
                canon_adds(&c, section);
                return;

        case LINE_PAIR:
                canon_adds(&c, parsed.name);
                canon_add(&c, "=", 1);
                canon_value(&c, &parsed.value);
                if (c.overflow) {
                        reader_error(r, "line too long once ';' and control characters are escaped (at most %zu characters)",
                                     size - 1);
                        reader_reject_line(r, text, strlen(text), buf, size);
                }
                return;
        }
}

/* inih's ini_reader: one physical line per call, like fgets(). */
static char *reader_read_line(char *buf, int size, void *userdata) {
        Reader *r = userdata;
        _cleanup_free_ char *text = NULL;
        const char *line, *nl;
        size_t n, max;

        if (r->stop || r->p >= r->end || size < 3)
                return NULL;
        if (r->doc->n_errors >= CONFIG_ERRORS_MAX) {
                r->line = 0;
                reader_error(r, "too many errors; the rest of the file was not read");
                r->stop = true;
                return NULL;
        }

        line = r->p;
        nl = memchr(r->p, '\n', (size_t) (r->end - r->p));
        n = nl ? (size_t) (nl - line) : (size_t) (r->end - line);
        r->p = nl ? nl + 1 : r->end;
        r->line++;
        buf[0] = '\0';

        if (n > 0 && line[n - 1] == '\r')
                n--;
        if (r->line == 1 && n >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
                line += 3;
                n -= 3;
        }

        /* What fgets() into inih's buffer could hold with its newline; inih
         * would parse the rest as a new line. */
        max = (size_t) size - 2;
        if (n > max) {
                reader_error(r, "line too long (%zu characters, at most %zu)", n, max);
                reader_reject_line(r, line, n, buf, (size_t) size);
                return buf;
        }
        for (size_t i = 0; i < n; i++) {
                unsigned char u = (unsigned char) line[i];

                if ((u < 0x20 && u != '\t') || u == 0x7F) {
                        reader_error(r, "control character 0x%02x is not allowed", u);
                        reader_reject_line(r, line, n, buf, (size_t) size);
                        return buf;
                }
        }

        text = memdup_str(line, n);
        if (!text) {
                r->error = -ENOMEM;
                r->stop = true;
                return NULL;
        }
        reader_canonicalize(r, text, buf, (size_t) size);
        return r->stop ? NULL : buf;
}

static const ConfigKey *table_find_key(const ConfigTable *t, const char *name) {
        for (const ConfigKey *k = t->schema->keys; k->name; k++)
                if (streq(k->name, name))
                        return k;
        return NULL;
}

/* Checks the value against the key's kind; -EINVAL when it does not fit (error recorded). */
static int entry_set_value(Reader *r, ConfigEntry *e, Value *v) {
        const char *name = e->key->name;

        switch (e->key->kind) {
        case CONFIG_BOOL:
                if (v->type != VALUE_BOOL)
                        break;
                e->boolean = v->boolean;
                return 0;
        case CONFIG_INT:
                if (v->type != VALUE_INT)
                        break;
                e->integer = v->integer;
                return 0;
        case CONFIG_STRING:
                if (v->type != VALUE_STRING)
                        break;
                e->string = TAKE_PTR(v->string);
                return 0;
        case CONFIG_STRV:
                if (v->type != VALUE_ARRAY)
                        break;
                e->strv = TAKE_PTR(v->strv);
                e->n_strv = v->n_strv;
                v->n_strv = 0;
                return 0;
        case CONFIG_SIZE:
                if (v->type == VALUE_INT && v->integer >= 0) {
                        e->size = (uint64_t) v->integer;
                        return 0;
                }
                if (v->type == VALUE_STRING && parse_size(v->string, &e->size) >= 0)
                        return 0;
                break;
        case CONFIG_PERCENT:
                if (v->type == VALUE_STRING && parse_percent(v->string, &e->percent) >= 0)
                        return 0;
                break;
        }

        switch (e->key->kind) {
        case CONFIG_BOOL:
                reader_error(r, "'%s' must be a boolean (true or false)", name);
                break;
        case CONFIG_INT:
                reader_error(r, "'%s' must be an integer", name);
                break;
        case CONFIG_STRING:
                reader_error(r, "'%s' must be a string in \"double quotes\"", name);
                break;
        case CONFIG_STRV:
                reader_error(r, "'%s' must be an array of strings, like [\"a\", \"b\"]", name);
                break;
        case CONFIG_SIZE:
                reader_error(r, "'%s' must be a size: a number of bytes, or a string like \"512K\", \"256M\", \"1G\"", name);
                break;
        case CONFIG_PERCENT:
                reader_error(r, "'%s' must be a percentage string like \"50%%\"", name);
                break;
        }
        return -EINVAL;
}

static int table_add_entry(Reader *r, ConfigTable *t, const char *name, const char *canonical) {
        _cleanup_(value_done) Value v = {};
        const ConfigEntry *dup;
        const ConfigKey *key;
        ConfigEntry e, *entries;
        Lexer l = { .p = canonical };
        int k;

        key = table_find_key(t, name);
        if (!key) {
                _cleanup_free_ char *title = NULL;

                if (config_table_title(t, &title) < 0)
                        return -ENOMEM;
                reader_error(r, "unknown key '%s' in %s", name, title);
                return -EINVAL;
        }
        dup = config_table_get(t, name);
        if (dup) {
                reader_error(r, "duplicate key '%s' (first at line %u)", name, dup->line);
                return -EINVAL;
        }
        if (r->doc->n_entries >= CONFIG_ENTRIES_MAX) {
                reader_error(r, "too many entries (at most %d)", CONFIG_ENTRIES_MAX);
                r->stop = true;
                return -EINVAL;
        }

        k = lex_value(&l, &v);
        if (k == -ENOMEM)
                return k;
        if (k < 0 || *l.p != '\0') {
                reader_error(r, "internal error: inih passed an unexpected value for '%s'", name);
                return -EINVAL;
        }

        e = (ConfigEntry) { .key = key, .line = r->line };
        k = entry_set_value(r, &e, &v);
        if (k < 0)
                return k;

        entries = reallocarray(t->entries, t->n_entries + 1, sizeof(ConfigEntry));
        if (!entries) {
                free(e.string);
                strv_free(e.strv, e.n_strv);
                return -ENOMEM;
        }
        t->entries = entries;
        t->entries[t->n_entries++] = e;
        r->doc->n_entries++;
        return 0;
}

/* inih's handler: called for each key line, right after reader_read_line() returned it. */
static int reader_handle_pair(void *userdata, const char *section, const char *name, const char *value) {
        Reader *r = userdata;
        ConfigTable *t;
        unsigned long index;
        char *end;
        int k;

        if (r->stop)
                return 1;
        if (isempty(section)) {
                reader_error(r, "'%s' is outside of any table; put it under a [section]", name);
                return 1;
        }
        if (streq(section, REJECTED_SECTION))
                return 1;       /* the header was reported; its keys cannot be checked */

        errno = 0;
        index = strtoul(section, &end, 10);
        if (errno != 0 || *end != '\0' || index >= r->doc->n_tables) {
                reader_error(r, "internal error: inih reported an unexpected section");
                return 1;
        }
        t = &r->doc->tables[index];

        k = table_add_entry(r, t, name, value);
        if (k == -ENOMEM) {
                r->error = -ENOMEM;
                r->stop = true;
                return 0;
        }
        if (k < 0)
                t->has_errors = true;
        return 1;
}

/* ---- documents ---- */

int config_document_parse(const char *filename, const char *data, size_t size,
                          const ConfigTableSchema *schema, ConfigDocument *ret, ConfigErrors *errors) {
        _cleanup_(config_document_done) ConfigDocument doc = {};
        Reader reader;
        int k;

        doc.filename = strdup(filename);
        if (!doc.filename)
                return -ENOMEM;

        reader = (Reader) {
                .doc = &doc,
                .errors = errors,
                .schema = schema,
                .p = data,
                .end = data + size,
        };
        k = ini_parse_stream(reader_read_line, &reader, reader_handle_pair, &reader);
        if (reader.error < 0)
                return reader.error;
        if (k < 0)
                return -ENOMEM;
        if (k > 0 && config_document_error(&doc, errors, (unsigned) k,
                                           "internal error: inih could not parse the canonical line") == -ENOMEM)
                return -ENOMEM;

        *ret = doc;
        doc = (ConfigDocument) {};
        return 0;
}

static int file_too_large(const char *filename, ConfigErrors *errors) {
        config_errors_add(errors, "%s: file too large (more than %d bytes)", filename, CONFIG_FILE_MAX);
        return -EFBIG;
}

/* Reads a regular file of at most CONFIG_FILE_MAX bytes; adds "FILE: message"
 * for every failure but -ENOENT. */
static int read_config_file(const char *filename, ConfigErrors *errors, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t allocated, n = 0;
        struct stat st;
        int r;

        fd = open(filename, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                r = negative_errno();
                if (r == -ENOENT)
                        return r;
                config_errors_add(errors, "%s: cannot read: %s", filename, strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0) {
                r = negative_errno();
                config_errors_add(errors, "%s: cannot read: %s", filename, strerror(-r));
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                config_errors_add(errors, "%s: not a regular file", filename);
                return S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;
        }
        if (st.st_size > CONFIG_FILE_MAX)
                return file_too_large(filename, errors);

        allocated = (size_t) st.st_size + 1;
        buf = malloc(allocated);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k;

                if (n == allocated) {
                        char *b;

                        if (allocated > CONFIG_FILE_MAX)
                                return file_too_large(filename, errors);  /* it grew while we read */
                        allocated = MIN(allocated * 2, (size_t) CONFIG_FILE_MAX + 1);
                        b = realloc(buf, allocated);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                }
                k = read(fd, buf + n, allocated - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        r = negative_errno();
                        config_errors_add(errors, "%s: cannot read: %s", filename, strerror(-r));
                        return r;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        if (n > CONFIG_FILE_MAX)
                return file_too_large(filename, errors);

        *ret = TAKE_PTR(buf);
        *ret_size = n;
        return 0;
}

int config_document_load(const char *filename, const ConfigTableSchema *schema,
                         ConfigDocument *ret, ConfigErrors *errors) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = read_config_file(filename, errors, &data, &size);
        if (r < 0)
                return r;
        return config_document_parse(filename, data, size, schema, ret, errors);
}

void config_document_done(ConfigDocument *d) {
        for (size_t i = 0; i < d->n_tables; i++) {
                ConfigTable *t = &d->tables[i];

                for (size_t j = 0; j < t->n_entries; j++) {
                        free(t->entries[j].string);
                        strv_free(t->entries[j].strv, t->entries[j].n_strv);
                }
                free(t->entries);
                free(t->path);
        }
        free(d->tables);
        free(d->filename);
        *d = (ConfigDocument) {};
}

int config_document_error(ConfigDocument *d, ConfigErrors *errors, unsigned line, const char *format, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int k;

        d->n_errors++;
        va_start(ap, format);
        k = vasprintf(&msg, format, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        if (line > 0)
                return config_errors_add(errors, "%s:%u: %s", d->filename, line, msg);
        return config_errors_add(errors, "%s: %s", d->filename, msg);
}

const ConfigTable *config_document_section(const ConfigDocument *d, const char *name) {
        for (size_t i = 0; i < d->n_tables; i++)
                if (d->tables[i].schema->name && streq(d->tables[i].schema->name, name))
                        return &d->tables[i];
        return NULL;
}

int config_table_title(const ConfigTable *t, char **ret) {
        int k;

        switch (t->schema->kind) {
        case CONFIG_TABLE_SECTION:
                k = asprintf(ret, "[%s]", t->schema->name);
                break;
        case CONFIG_TABLE_ARRAY:
                k = asprintf(ret, "[[%s]]", t->schema->name);
                break;
        default:
                k = asprintf(ret, "[[\"%s\"]]", t->path);
                break;
        }
        return k < 0 ? -ENOMEM : 0;
}

const ConfigEntry *config_table_get(const ConfigTable *t, const char *key) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_entries; i++)
                if (streq(t->entries[i].key->name, key))
                        return &t->entries[i];
        return NULL;
}

bool config_table_get_bool(const ConfigTable *t, const char *key, bool default_value) {
        const ConfigEntry *e = config_table_get(t, key);
        return e ? e->boolean : default_value;
}

const char *config_table_get_string(const ConfigTable *t, const char *key) {
        const ConfigEntry *e = config_table_get(t, key);
        return e ? e->string : NULL;
}

int config_table_copy_string(const ConfigTable *t, const char *key, char **ret) {
        const char *s = config_table_get_string(t, key);
        char *copy;

        if (!s)
                return 0;
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        free(*ret);
        *ret = copy;
        return 0;
}

int config_file_path(const char *config_dir, const char *name, char **ret) {
        size_t n = strlen(config_dir);

        /* "/etc/tailkitd/" + "files.toml" without a doubled slash in messages */
        while (n > 1 && config_dir[n - 1] == '/')
                n--;
        if (asprintf(ret, "%.*s/%s", (int) n, config_dir, name) < 0)
                return -ENOMEM;
        return 0;
}
