// Bounds on peer input checked before allocating (house style: every limit has a
// test that exceeds it). Callers may tighten them from configuration.
#pragma once

#include <cstddef>

namespace smime {

struct Limits {
  std::size_t max_message_bytes = 50U * 1024U * 1024U;  // whole message, headers included
  std::size_t max_mime_depth = 64;                      // nested multiparts / S/MIME layers
  std::size_t max_mime_parts = 2000;                    // leaf and container parts in total
  std::size_t max_header_bytes = 1024U * 1024U;         // all headers of the message together
};

}  // namespace smime
