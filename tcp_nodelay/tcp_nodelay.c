/*
 * tcp_nodelay.so: Postfix's SMTP client connects to SES with Nagle's algorithm off.
 *
 * Why: SES sessions are reused through tlsproxy(8), which reads the message from smtp(8) 4 KB at a
 * time and writes each piece to SES as its own TLS record. With Nagle's algorithm on, the last
 * small record (the end of the message) waits until the server acknowledges the previous one,
 * and a server may delay that acknowledgement (Linux: up to 40 ms; SES does not document its
 * own). Measured against the SES simulator 20 ms away, the end of DATA took 72 ms to answer where
 * a command took 25 ms. Postfix turns Nagle off itself only on its own TLS streams
 * (vstream_tweak_tcp), never on the sockets it hands to tlsproxy.
 *
 * How: loaded into Postfix's daemons with LD_PRELOAD (main.cf's import_environment), it sets
 * TCP_NODELAY on every TCP socket before connect(). Postfix's only outbound TCP connections are
 * smtp(8)'s, to SES. Nothing else changes: a failing setsockopt() is ignored and connect() is the
 * real one.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    static connect_fn real_connect;
    int saved_errno = errno;
    int type = 0;
    socklen_t type_len = sizeof(type);
    int on = 1;

    if (real_connect == 0)
        real_connect = (connect_fn) dlsym(RTLD_NEXT, "connect");
    if (real_connect == 0) {
        errno = ENOSYS;
        return -1;
    }
    if (addr != 0 && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6)
        && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) == 0 && type == SOCK_STREAM)
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    errno = saved_errno;
    return real_connect(fd, addr, len);
}
