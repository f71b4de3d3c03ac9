/*
 * LD_PRELOAD shim for tests: fsync(2) and fdatasync(2) of chosen files fail or do nothing.
 * The JVM's FileChannel.force calls them through libc, so this reaches a real daemon or CLI.
 * Each descriptor's path is read from /proc/self/fd and matched with POSIX extended regexes:
 *   TASKID_SHIM_EIO_MATCH + TASKID_SHIM_EIO_TRIGGER: while the trigger file exists, a sync of a
 *     matching path fails with EIO. An empty trigger is one shot: the call that fails removes it,
 *     so a second fsync of the same descriptor succeeds, as after a real write-back error (the
 *     kernel marks the lost pages clean), and a caller that retries would wrongly claim success.
 *     A trigger with content stays: every matching call fails until the test removes it.
 *   TASKID_SHIM_DROP: a sync of a matching path returns 0 without syncing (a removed force()).
 *   TASKID_SHIM_STALL_MATCH + TASKID_SHIM_STALL_TRIGGER: while the trigger file exists, a sync of
 *     a matching path waits (a disk that does not answer), logged as "stalled" when it starts.
 *   TASKID_SHIM_LOG: each call is appended there as "pid call path result".
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int path_of(int fd, char *buf, size_t n) {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t r = readlink(link, buf, n - 1);
    if (r < 0) {
        return -1;
    }
    buf[r] = 0;
    return 0;
}

static int matches(const char *var, const char *path) {
    const char *pattern = getenv(var);
    regex_t re;
    if (pattern == NULL || *pattern == 0 || regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0) {
        return 0;
    }
    int m = regexec(&re, path, 0, NULL, 0) == 0;
    regfree(&re);
    return m;
}

static void note(const char *call, const char *path, const char *result) {
    const char *log = getenv("TASKID_SHIM_LOG");
    if (log == NULL) {
        return;
    }
    char line[4200];
    int n = snprintf(line, sizeof line, "%d %s %s %s\n", (int) getpid(), call, path, result);
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        ssize_t ignored = write(fd, line, n > 0 && (size_t) n < sizeof line ? (size_t) n : 0);
        (void) ignored;
        close(fd);
    }
}

/* 0: pass through, 1: pretend success, 2: fail with EIO. */
static int decide(int fd, const char *call, char *path, size_t n) {
    if (path_of(fd, path, n) != 0) {
        strcpy(path, "?");
        return 0;
    }
    if (matches("TASKID_SHIM_DROP", path)) {
        note(call, path, "dropped");
        return 1;
    }
    const char *stall = getenv("TASKID_SHIM_STALL_TRIGGER");
    if (stall != NULL && matches("TASKID_SHIM_STALL_MATCH", path)) {
        struct stat st;
        if (stat(stall, &st) == 0) {
            note(call, path, "stalled");
            while (stat(stall, &st) == 0) {
                usleep(10000);
            }
        }
    }
    const char *trigger = getenv("TASKID_SHIM_EIO_TRIGGER");
    if (trigger != NULL && matches("TASKID_SHIM_EIO_MATCH", path)) {
        struct stat st;
        int fire = stat(trigger, &st) == 0 && (st.st_size > 0 || unlink(trigger) == 0);
        if (fire) {
            note(call, path, "EIO");
            return 2;
        }
    }
    return 0;
}

static int sync_call(int fd, const char *call) {
    char path[4096];
    int d = decide(fd, call, path, sizeof path);
    if (d == 1) {
        return 0;
    }
    if (d == 2) {
        errno = EIO;
        return -1;
    }
    int (*real)(int) = (int (*)(int)) dlsym(RTLD_NEXT, call);
    int r = real(fd);
    note(call, path, r == 0 ? "ok" : "error");
    return r;
}

int fsync(int fd) {
    return sync_call(fd, "fsync");
}

int fdatasync(int fd) {
    return sync_call(fd, "fdatasync");
}
