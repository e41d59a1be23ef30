#include "milter/guarded.h"

#include <exception>

#include <spdlog/spdlog.h>

namespace milter {

Outcome guarded(std::string_view queue_id, const std::function<Outcome()>& body) noexcept {
  const std::string_view id = queue_id.empty() ? std::string_view("NOQUEUE") : queue_id;
  try {
    try {
      return body();
    } catch (const std::exception& e) {
      spdlog::error("{}: internal error, tempfail: {}", id, e.what());
    } catch (...) {
      spdlog::error("{}: internal error, tempfail: unknown exception", id);
    }
  } catch (...) {
    // Logging itself failed (e.g. out of memory): still fail closed.
  }
  try {
    return tempfail_outcome("internal error in the S/MIME gateway, try again later");
  } catch (...) {
    return Outcome{Verdict::kTempfail, {}, {}, {}, {}, {}, {}, {}, {}};
  }
}

}  // namespace milter
