// Listening-socket chores libmilter leaves to us: removing a stale unix socket safely
// (only a socket, and only when nobody answers on it) and TCP_NODELAY on inet
// listeners. libmilter 8.17 has no getter for the socket it creates, so
// set_nodelay_on_inet_listeners() finds it among our descriptors (SO_ACCEPTCONN).
// Linux copies TCP_NODELAY from the listener to accepted sockets, which avoids the
// ~40 ms Nagle/delayed-ACK stall per milter exchange on loopback TCP.
// Thread-safety: call before the milter threads start.
#pragma once

#include <string>

#include "policy/result.h"

namespace milter {

// Removes `path` if it is a unix socket nobody listens on (ECONNREFUSED). A live
// socket -> kConflict (another instance runs); not a socket -> kConflict too (never
// delete someone's file); missing -> ok.
policy::Status remove_stale_unix_socket(const std::string& path);

// Sets TCP_NODELAY on every listening TCP socket of this process; returns how many.
int set_nodelay_on_inet_listeners();

}  // namespace milter
