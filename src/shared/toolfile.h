/* SPDX-License-Identifier: MIT */
#pragma once

/* Tool files under /etc/tailkitd/tools/, as tailkit.Install() writes them
 * (seed-code-digest §4): {name, version, tsnet_host, commands[{name,
 * description, acl_cap, exec_parts[], timeout (ns), args[{name, type,
 * required, pattern}]}]}. Unknown keys are ignored like Go's decoder does;
 * wrong types and missing essentials make the file broken. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define TOOL_FILE_MAX (1024 * 1024)
#define TOOL_FILES_MAX 1000
#define TOOL_COMMANDS_MAX 256
#define TOOL_ARGS_MAX 64
#define TOOL_EXEC_PARTS_MAX 256

typedef enum ToolArgType {
        TOOL_ARG_STRING,
        TOOL_ARG_INT,
        TOOL_ARG_BOOL,
} ToolArgType;

typedef struct ToolArg {
        char *name;
        ToolArgType type;
        bool required;
        char *pattern;               /* RE2 syntax, NULL when unset */
} ToolArg;

typedef struct ToolCommand {
        char *name;
        char *description;
        char *acl_cap;
        char **exec_parts;
        size_t n_exec_parts;
        uint64_t timeout_ns;
        ToolArg *args;
        size_t n_args;
} ToolCommand;

typedef struct Tool {
        char *name;
        char *version;
        char *tsnet_host;
        ToolCommand *commands;
        size_t n_commands;
        char *filename;              /* the file it came from, e.g. "devbox.json" */
} Tool;

Tool *tool_free(Tool *t);
static inline void tool_freep(Tool **t) {
        tool_free(*t);
}

/* True for ^[a-zA-Z0-9_-]+$ of at most 64 characters (tool, command, arg names). */
bool tool_name_is_valid(const char *s);

/* Parses one file's content. On -EBADMSG *error says why, with the line
 * number for JSON syntax errors (caller frees). */
int tool_parse(const char *data, size_t size, Tool **ret, char **error);

/* The rules tailkit.Install() adds on top of tool_parse() (seed-code-digest
 * §4): non-empty version and tsnet_host, every command's acl_cap non-empty
 * and timeout > 0. tailkitd itself loads files without them (the Go daemon
 * did not re-validate); installers apply them. 0, or -EBADMSG with *error
 * (caller frees). */
int tool_check_install(const Tool *t, char **error);

/* Reads and parses dir/filename (a regular file of at most TOOL_FILE_MAX). */
int tool_load(int dir_fd, const char *filename, Tool **ret, char **error);

typedef struct ToolList {
        Tool **tools;                /* in file name order */
        size_t n;
} ToolList;

void tool_list_done(ToolList *l);

/* Loads every "*.json" (not starting with '.') of dir. Broken files are
 * skipped and reported through on_broken. A missing dir gives an empty list. */
int tool_list_load(const char *dir, ToolList *ret,
                   void (*on_broken)(const char *path, const char *error, void *userdata),
                   void *userdata);

/* The last tool named name (later files win, as in the Go registry) or NULL. */
const Tool *tool_list_find(const ToolList *l, const char *name);

/* The wire form (same keys as the Go client writes). */
json_object *tool_to_json(const Tool *t);
