/* SPDX-License-Identifier: MIT */
#pragma once

/* API calls: an HTTP exchange whose error answers ({"error","hint"}) are
 * printed and mapped to tailkitctl's exit codes, and whose JSON answers are
 * parsed strictly. */

#include <json-c/json.h>

#include "http.h"

/* The exit code for an HTTP status >= 400. */
int api_exit_code(long status);

/* Prints the API's error and hint on c->err and returns api_exit_code(). */
int api_print_error(Ctx *c, const HttpResponse *resp);

/* http_do, then: a status >= 400 → printed, its exit code. 0 otherwise. */
int api_do(Ctx *c, const HttpRequest *req, HttpResponse *resp);

/* api_do for a JSON answer: *ret is the parsed body (NULL for an empty one). */
int api_json(Ctx *c, const HttpRequest *req, json_object **ret);

/* GET path as JSON. */
int api_get_json(Ctx *c, const char *path, json_object **ret);

/* Prints a JSON value as the API sent it (--json), pretty, with a newline. */
void print_json(Ctx *c, json_object *o);

/* The string at key, or NULL. */
const char *json_str(json_object *o, const char *key);
int64_t json_int(json_object *o, const char *key, int64_t def);
double json_double(json_object *o, const char *key, double def);
bool json_true(json_object *o, const char *key);
json_object *json_get(json_object *o, const char *key);
