/* SPDX-License-Identifier: MIT */
#pragma once

/* One journal entry ({"Fields","Cursor","RealtimeTimestamp",…}) as a line
 * like journalctl's short-iso output: "2024-05-01T12:00:00+0000 host ident[pid]: message". */

#include <stdio.h>

#include <json-c/json.h>

void journal_print_entry(FILE *f, json_object *entry);
