/* SPDX-License-Identifier: MIT */
#include <curl/curl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdatomic.h>

#include "api.h"
#include "fleet.h"
#include "json-util.h"
#include "localapi-status.h"
#include "macro.h"

typedef struct NodeRun {
        const Peer *peer;
        Target target;
        char *out, *err;
        size_t out_size, err_size;
        int exit_code;
        bool skipped;
} NodeRun;

typedef struct Fleet {
        const Options *opt;
        const Command *cmd;
        int argc;
        char **argv;
        NodeRun *runs;
        size_t n;
        atomic_size_t next;
} Fleet;

bool peer_matches(const Options *opt, const Peer *p) {
        if (opt->n_tags > 0) {
                bool any = false;
                for (size_t i = 0; i < opt->n_tags && !any; i++)
                        for (size_t j = 0; j < p->n_tags && !any; j++)
                                any = streq(opt->tags[i], p->tags[j]);
                if (!any)
                        return false;
        }
        if (opt->match) {
                _cleanup_free_ char *label = strndup(p->dns_name, strcspn(p->dns_name, "."));
                if (fnmatch(opt->match, p->hostname, 0) != 0 &&
                    !(label && fnmatch(opt->match, label, 0) == 0))
                        return false;
        }
        return true;
}

static void run_one(Fleet *f, NodeRun *run) {
        Ctx c = { .opt = f->opt, .target = &run->target };
        json_object *health = NULL;
        FILE *out, *err;

        out = open_memstream(&run->out, &run->out_size);
        err = open_memstream(&run->err, &run->err_size);
        if (!out || !err) {
                if (out)
                        fclose(out);
                if (err)
                        fclose(err);
                run->exit_code = EXIT_FAILURE_LOCAL;
                return;
        }
        c.out = out;
        c.err = err;
        c.deadline_ms = now_ms() + f->opt->timeout_ms;

        /* A tailkitd answers /health; nothing listening means no tailkitd. */
        run->exit_code = api_get_json(&c, "/health", &health);
        json_object_put(health);
        if (run->exit_code == EXIT_UNREACHABLE && c.transport_error == CURLE_COULDNT_CONNECT)
                run->skipped = true;
        else if (run->exit_code == 0) {
                /* getopt in commands is not thread-safe: commands parse by hand. */
                char *argv[f->argc + 1];
                memcpy(argv, f->argv, sizeof(char *) * (size_t) f->argc);
                argv[f->argc] = NULL;
                run->exit_code = f->cmd->func(&c, f->argc, argv);
        }
        fclose(out);
        fclose(err);
}

static void *worker(void *userdata) {
        Fleet *f = userdata;
        size_t i;

        while ((i = atomic_fetch_add(&f->next, 1)) < f->n)
                run_one(f, &f->runs[i]);
        return NULL;
}

/* "name: line" for every line of s. */
static void print_prefixed(FILE *to, const char *name, const char *s, size_t n) {
        while (n > 0) {
                const char *nl = memchr(s, '\n', n);
                size_t len = nl ? (size_t) (nl - s) : n;
                fprintf(to, "%s: %.*s\n", name, (int) len, s);
                if (!nl)
                        break;
                n -= len + 1;
                s = nl + 1;
        }
}

static void print_json_result(const NodeRun *run) {
        _cleanup_(json_object_putp_) json_object *o = json_object_new_object(), *result = NULL;

        if (!o)
                return;
        json_object_object_add(o, "node", json_object_new_string(run->peer->hostname));
        json_object_object_add(o, "address", json_object_new_string(run->peer->ip));
        json_object_object_add(o, "ok", json_object_new_boolean(run->exit_code == 0));
        json_object_object_add(o, "exit_code", json_object_new_int(run->exit_code));
        if (run->out_size > 0 && json_parse_strict(run->out, run->out_size, &result) >= 0)
                json_object_object_add(o, "result", TAKE_PTR(result));
        else if (run->out_size > 0)
                json_object_object_add(o, "output", json_object_new_string_len(run->out, (int) run->out_size));
        if (run->err_size > 0) {
                size_t n = run->err_size;
                while (n > 0 && run->err[n - 1] == '\n')
                        n--;
                json_object_object_add(o, "error", json_object_new_string_len(run->err, (int) n));
        }
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

int fleet_run(const Options *opt, const Command *cmd, int argc, char **argv) {
        _cleanup_(peer_list_done) PeerList peers = {};
        _cleanup_free_ char *error = NULL;
        _cleanup_free_ NodeRun *runs = NULL;
        Fleet f = { .opt = opt, .cmd = cmd, .argc = argc, .argv = argv };
        size_t n_threads, skipped = 0, failed = 0;
        int r;

        r = localapi_status(opt->socket, &peers, &error);
        if (r < 0) {
                fprintf(stderr, "error: listing peers: %s\n", error ?: strerror(-r));
                fprintf(stderr, "hint: --socket names tailscaled's LocalAPI socket\n");
                return EXIT_UNREACHABLE;
        }
        runs = calloc(peers.n ?: 1, sizeof(NodeRun));
        if (!runs)
                return EXIT_FAILURE_LOCAL;
        for (size_t i = 0; i < peers.n; i++) {
                const Peer *p = &peers.peers[i];
                if (!p->online || !p->ip || !peer_matches(opt, p))
                        continue;
                runs[f.n].peer = p;
                runs[f.n].target = (Target) { .name = strdup(p->hostname), .host = strdup(p->ip), .port = opt->port };
                if (!runs[f.n].target.name || !runs[f.n].target.host)
                        return EXIT_FAILURE_LOCAL;
                f.n++;
        }
        if (f.n == 0) {
                fprintf(stderr, "error: no online peer matches\n");
                return EXIT_NOT_FOUND;
        }
        f.runs = runs;

        n_threads = MIN((size_t) opt->parallel, f.n);
        pthread_t threads[n_threads];
        size_t started = 0;
        for (; started < n_threads; started++)
                if (pthread_create(&threads[started], NULL, worker, &f) != 0)
                        break;
        if (started == 0)
                worker(&f);
        for (size_t i = 0; i < started; i++)
                pthread_join(threads[i], NULL);

        for (size_t i = 0; i < f.n; i++) {
                NodeRun *run = &runs[i];
                if (run->skipped)
                        skipped++;
                else {
                        if (run->exit_code != 0)
                                failed++;
                        if (opt->json)
                                print_json_result(run);
                        else {
                                print_prefixed(stdout, run->peer->hostname, run->out, run->out_size);
                                print_prefixed(stdout, run->peer->hostname, run->err, run->err_size);
                        }
                }
                free(run->out);
                free(run->err);
                target_done(&run->target);
        }
        if (skipped > 0) {
                fprintf(stderr, "tailkitctl: skipped %zu peer(s) where nothing listens:", skipped);
                for (size_t i = 0; i < f.n; i++)
                        if (runs[i].skipped)
                                fprintf(stderr, " %s", runs[i].peer->hostname);
                fputc('\n', stderr);
        }
        fflush(stdout);
        if (skipped == f.n) {
                fprintf(stderr, "error: no peer runs tailkitd\n");
                return EXIT_UNREACHABLE;
        }
        return failed > 0 ? EXIT_FLEET_PARTIAL : EXIT_OK;
}
