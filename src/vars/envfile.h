/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>

#include <json-c/json.h>

/* Writes KEY="value" lines (sorted by key, "_" keys skipped) that both sh
 * (`set -a; . ./file`) and systemd's EnvironmentFile= read back exactly:
 * inside double quotes only " \ $ and ` are special to either, so they are
 * backslash-escaped and every other byte (newlines included) is literal. */
int envfile_write(FILE *f, json_object *scope);
