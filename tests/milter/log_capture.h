// Captures the default spdlog logger's lines ("<level> <message>") while alive, for the
// milter tests that check what is logged. Not thread-safe against set_default_logger.
#pragma once

#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

namespace milter::fixture {

class LogCapture {
 public:
  LogCapture() : old_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    sink->set_pattern("%l %v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  }
  ~LogCapture() { spdlog::set_default_logger(old_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  std::string text() const { return out_.str(); }
  // The lines logged at `level` ("info", "warning", "error"), level prefix included.
  std::vector<std::string> lines(std::string_view level) const {
    std::vector<std::string> r;
    std::istringstream in(out_.str());
    for (std::string l; std::getline(in, l);) {
      if (l.starts_with(std::string(level) + " ")) {
        r.push_back(l);
      }
    }
    return r;
  }

 private:
  std::shared_ptr<spdlog::logger> old_;
  std::ostringstream out_;
};

}  // namespace milter::fixture
