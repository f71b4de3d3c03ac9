/*
 * Closed-loop load generator for scripts/bench-redis.sh: C connections to a Unix socket, one
 * request in flight on each; every reply is read, checked and timed. The same program drives
 * taskid (a JSON line, reply a line with "ok":true) and Redis (INCR, reply ":N\r\n").
 *
 *   bench-client taskid|taskid-key|redis SOCKET CONNECTIONS SECONDS
 *       prints: replies ok errors seconds req/s p50_us p99_us p999_us
 *   bench-client call SOCKET LINE      sends one line, prints the reply line
 *   bench-client floor DIR N           the bare durable step, N times: write a tmp file, fsync,
 *                                      rename over the target, fsync the directory; prints the median us
 */
#include <fcntl.h>
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_LAT (64 * 1024 * 1024)

struct conn {
    int fd;
    long long sent_ns;
    char buf[4096];
    int len;
};

static long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

static int mode; /* 0 taskid, 1 taskid with a fresh key per request, 2 redis */
static long long seq;

static void send_one(struct conn *c) {
    char req[256];
    int n;
    if (mode == 2) {
        n = snprintf(req, sizeof req, "*2\r\n$4\r\nINCR\r\n$3\r\nSEC\r\n");
    } else if (mode == 1) {
        n = snprintf(req, sizeof req, "{\"op\":\"reserve\",\"prefix\":\"SEC\",\"count\":1,\"key\":\"k%d-%lld\"}\n",
                     getpid(), ++seq);
    } else {
        n = snprintf(req, sizeof req, "{\"op\":\"reserve\",\"prefix\":\"SEC\",\"count\":1}\n");
    }
    c->sent_ns = now_ns();
    if (write(c->fd, req, n) != n) {
        perror("write");
        exit(1);
    }
}

static int call(const char *path, const char *line) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        perror("connect");
        return 1;
    }
    dprintf(fd, "%s\n", line);
    char buf[65536];
    int len = 0, r;
    while (len < (int)sizeof buf - 1 && (r = read(fd, buf + len, sizeof buf - 1 - len)) > 0) {
        len += r;
        if (memchr(buf, '\n', len)) {
            break;
        }
    }
    buf[len] = 0;
    fputs(buf, stdout);
    return 0;
}

static int floor_step(const char *dir, int n) {
    char tmp[4096], target[4096];
    snprintf(tmp, sizeof tmp, "%s/floor.json.tmp", dir);
    snprintf(target, sizeof target, "%s/floor.json", dir);
    const char body[] = "{\"version\":1,\"counters\":{\"SEC\":123456}}\n";
    long long *t = malloc(sizeof(long long) * n);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    for (int i = 0; i < n; i++) {
        long long s = now_ns();
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || write(fd, body, sizeof body - 1) < 0 || fsync(fd) != 0 || close(fd) != 0
            || rename(tmp, target) != 0 || fsync(dfd) != 0) {
            perror("floor");
            return 1;
        }
        t[i] = now_ns() - s;
    }
    qsort(t, n, sizeof *t, cmp);
    printf("%.1f\n", t[n / 2] / 1000.0);
    unlink(target);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "call") == 0) {
        return call(argv[2], argv[3]);
    }
    if (argc == 4 && strcmp(argv[1], "floor") == 0) {
        return floor_step(argv[2], atoi(argv[3]));
    }
    if (argc != 5) {
        fprintf(stderr, "usage: %s taskid|taskid-key|redis SOCKET CONNECTIONS SECONDS\n", argv[0]);
        return 2;
    }
    mode = strcmp(argv[1], "redis") == 0 ? 2 : strcmp(argv[1], "taskid-key") == 0 ? 1 : 0;
    int nconn = atoi(argv[3]);
    double seconds = atof(argv[4]);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    strncpy(addr.sun_path, argv[2], sizeof addr.sun_path - 1);
    int ep = epoll_create1(0);
    struct conn *conns = calloc(nconn, sizeof *conns);
    long long *lat = malloc(sizeof(long long) * MAX_LAT);
    long long nlat = 0, ok = 0, errors = 0;
    for (int i = 0; i < nconn; i++) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
            perror("connect");
            return 1;
        }
        conns[i].fd = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    long long start = now_ns(), end = start + (long long)(seconds * 1e9);
    for (int i = 0; i < nconn; i++) {
        send_one(&conns[i]);
    }
    int outstanding = nconn;
    struct epoll_event events[256];
    while (outstanding > 0) {
        int n = epoll_wait(ep, events, 256, 10000);
        if (n == 0) {
            fprintf(stderr, "no reply for 10 s\n");
            return 1;
        }
        long long t = now_ns();
        for (int e = 0; e < n; e++) {
            struct conn *c = events[e].data.ptr;
            int r = read(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
            if (r <= 0) {
                fprintf(stderr, "connection closed: %s\n", r == 0 ? "EOF" : strerror(errno));
                return 1;
            }
            c->len += r;
            char *nl = memchr(c->buf, '\n', c->len);
            if (nl == NULL) {
                continue;
            }
            c->buf[c->len] = 0;
            int good = mode == 2 ? c->buf[0] == ':' : strstr(c->buf, "\"ok\":true") != NULL;
            if (good) {
                ok++;
            } else {
                errors++;
                if (errors < 5) {
                    fprintf(stderr, "error reply: %.*s\n", (int)(nl - c->buf), c->buf);
                }
            }
            c->len = 0; /* one request in flight: nothing follows the reply */
            if (nlat < MAX_LAT) {
                lat[nlat++] = t - c->sent_ns;
            }
            if (t < end) {
                send_one(c);
            } else {
                outstanding--;
            }
        }
    }
    double elapsed = (now_ns() - start) / 1e9;
    qsort(lat, nlat, sizeof *lat, cmp);
#define PCT(p) (nlat ? lat[(long long)((nlat - 1) * (p))] / 1000.0 : 0)
    printf("%lld %lld %lld %.3f %.0f %.1f %.1f %.1f\n", ok + errors, ok, errors, elapsed, (ok + errors) / elapsed,
           PCT(0.5), PCT(0.99), PCT(0.999));
    return errors ? 3 : 0;
}
