// guarded(): the backstop that keeps exceptions out of libmilter. Anything escaping
// the pipeline becomes a tempfail (451 4.3.0) and exactly one error log line, so an
// internal failure can never let a message through unprotected.
// Thread-safety: reentrant.
#pragma once

#include <functional>
#include <string_view>

#include "milter/outcome.h"

namespace milter {

Outcome guarded(std::string_view queue_id, const std::function<Outcome()>& body) noexcept;

}  // namespace milter
