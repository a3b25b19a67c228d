/* SPDX-License-Identifier: MIT */
#pragma once

/* The TOML subset of /etc/tailkitd, read with inih and checked against a
 * schema (internal to the config loaders).
 *
 * inih alone would misparse TOML (a '#' after a value stays in the value, an
 * indented key continues the previous one, long lines are split, section
 * names are cut at the first ']' and at 49 characters). So the reader feeds
 * inih one physical line at a time after a lexical pre-pass: each line is
 * validated and rewritten to a canonical form inih passes through unchanged,
 * and anything outside the subset is reported as "FILE:LINE: message". */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Bounds on what one file may hold. */
#define CONFIG_FILE_MAX (1024 * 1024)
#define CONFIG_TABLES_MAX 1000
#define CONFIG_ENTRIES_MAX 10000
/* After this many errors in one file the rest is not read. */
#define CONFIG_ERRORS_MAX 100

/* What a key must hold. */
typedef enum ConfigKind {
        CONFIG_BOOL,
        CONFIG_INT,
        CONFIG_STRING,
        CONFIG_STRV,            /* one-line array of strings */
        CONFIG_SIZE,            /* integer bytes, or "512K" / "256M" / "1G" */
        CONFIG_PERCENT,         /* "50%" */
} ConfigKind;

typedef struct ConfigKey {
        const char *name;
        ConfigKind kind;
} ConfigKey;

typedef enum ConfigTableKind {
        CONFIG_TABLE_SECTION,   /* [name], at most once per file */
        CONFIG_TABLE_ARRAY,     /* [[name]], any number */
        CONFIG_TABLE_PATH,      /* [["/quoted/path/"]], any number; the schema's name is NULL */
} ConfigTableKind;

typedef struct ConfigTableSchema {
        const char *name;
        ConfigTableKind kind;
        const ConfigKey *keys;  /* ends with an entry whose name is NULL */
} ConfigTableSchema;
/* A file's schema is an array of ConfigTableSchema ending with { .keys = NULL }. */

typedef struct ConfigEntry {
        const ConfigKey *key;
        unsigned line;
        /* The member matching key->kind is set. */
        bool boolean;
        int64_t integer;
        uint64_t size;
        unsigned percent;
        char *string;
        char **strv;
        size_t n_strv;
} ConfigEntry;

typedef struct ConfigTable {
        const ConfigTableSchema *schema;
        char *path;             /* CONFIG_TABLE_PATH: the quoted string of the header */
        unsigned line;
        bool has_errors;        /* a line in it was rejected: skip checks that need all keys */
        ConfigEntry *entries;
        size_t n_entries;
} ConfigTable;

typedef struct ConfigDocument {
        char *filename;
        ConfigTable *tables;    /* in file order */
        size_t n_tables;
        size_t n_entries;
        unsigned n_errors;      /* syntax errors plus those added with config_document_error() */
} ConfigDocument;

/* Reads and checks one file. Returns 0 when the file was read (errors in it
 * are added to errors and counted in ret->n_errors; ret holds the valid
 * parts), -ENOENT when it does not exist (nothing added), -ENOMEM, or another
 * negative errno when it cannot be read (a "FILE: message" is added). */
int config_document_load(const char *filename, const ConfigTableSchema *schema,
                         ConfigDocument *ret, ConfigErrors *errors);
/* Same, from memory; filename only names the errors. */
int config_document_parse(const char *filename, const char *data, size_t size,
                          const ConfigTableSchema *schema, ConfigDocument *ret, ConfigErrors *errors);
void config_document_done(ConfigDocument *d);

/* Adds "FILE:LINE: message" (line 0: "FILE: message") and counts it in
 * d->n_errors. Returns -EINVAL, or -ENOMEM. */
int config_document_error(ConfigDocument *d, ConfigErrors *errors, unsigned line, const char *format, ...)
        __attribute__((format(printf, 4, 5)));

/* The single [name] table, or NULL. */
const ConfigTable *config_document_section(const ConfigDocument *d, const char *name);
/* "[name]", "[[name]]" or "[[\"/path/\"]]", for messages. */
int config_table_title(const ConfigTable *t, char **ret);

/* Lookups; t may be NULL (the section is absent). */
const ConfigEntry *config_table_get(const ConfigTable *t, const char *key);
bool config_table_get_bool(const ConfigTable *t, const char *key, bool default_value);
const char *config_table_get_string(const ConfigTable *t, const char *key);
/* Sets *ret to a copy of the string, if the key is present; else leaves it. */
int config_table_copy_string(const ConfigTable *t, const char *key, char **ret);

/* "<config_dir>/<name>" */
int config_file_path(const char *config_dir, const char *name, char **ret);

/* Counted string arrays, also kept NULL-terminated (config-check.c). */
int strv_copy(char *const *v, size_t n, char ***ret);
/* Appends a copy of s. */
int strv_push(char ***v, size_t *n, const char *s);
