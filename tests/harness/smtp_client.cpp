#include "tests/harness/smtp_client.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace harness {
namespace {

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const auto n = (static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16U) |
                   (static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8U) |
                   static_cast<unsigned>(static_cast<unsigned char>(in[i + 2]));
    out += kAlphabet[(n >> 18U) & 63U];
    out += kAlphabet[(n >> 12U) & 63U];
    out += kAlphabet[(n >> 6U) & 63U];
    out += kAlphabet[n & 63U];
  }
  const std::size_t rest = in.size() - i;
  if (rest > 0) {
    unsigned n = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16U;
    if (rest == 2) {
      n |= static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8U;
    }
    out += kAlphabet[(n >> 18U) & 63U];
    out += kAlphabet[(n >> 12U) & 63U];
    out += rest == 2 ? kAlphabet[(n >> 6U) & 63U] : '=';
    out += '=';
  }
  return out;
}

// One SMTP connection: a socket with read/write timeouts and a line buffer.
class Connection {
 public:
  Connection(std::uint16_t port, std::chrono::seconds timeout) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    }
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count());
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
      const std::string err = std::strerror(errno);
      ::close(fd_);
      throw std::runtime_error("connect 127.0.0.1:" + std::to_string(port) + ": " + err);
    }
  }
  ~Connection() { ::close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void send(std::string_view s) {
    while (!s.empty()) {
      const ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        throw std::runtime_error(std::string("send: ") + std::strerror(errno));
      }
      s.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  SmtpReply reply() {
    SmtpReply r;
    for (;;) {
      const std::string line = read_line();
      if (line.size() < 3) {
        throw std::runtime_error("malformed SMTP reply line: " + line);
      }
      r.code = std::stoi(line.substr(0, 3));
      if (!r.text.empty()) {
        r.text += '\n';
      }
      r.text += line.size() > 4 ? line.substr(4) : "";
      if (line.size() == 3 || line[3] != '-') {
        return r;
      }
    }
  }

  SmtpReply command(std::string_view cmd) {
    send(std::string(cmd) + "\r\n");
    return reply();
  }

 private:
  std::string read_line() {
    for (;;) {
      if (const auto pos = buf_.find("\r\n"); pos != std::string::npos) {
        std::string line = buf_.substr(0, pos);
        buf_.erase(0, pos + 2);
        return line;
      }
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n == 0) {
        throw std::runtime_error("connection closed by the server");
      }
      if (n < 0) {
        throw std::runtime_error(std::string("recv: ") + std::strerror(errno));
      }
      buf_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  int fd_ = -1;
  std::string buf_;
};

void run_dialogue(Connection& c, const Message& m, SubmitResult& r) {
  r.greeting = c.reply();
  if (r.greeting.code != 220) {
    return;
  }
  r.ehlo = c.command("EHLO " + m.helo);
  if (r.ehlo.code != 250) {
    return;
  }
  std::string_view text = r.ehlo.text;
  for (std::size_t nl = text.find('\n'); nl != std::string_view::npos; nl = text.find('\n')) {
    text.remove_prefix(nl + 1);
    r.ehlo_keywords.emplace_back(text.substr(0, text.find('\n')));
  }
  if (m.auth_user) {
    const std::string token = std::string(1, '\0') + *m.auth_user + '\0' + m.auth_pass.value_or("");
    r.auth = c.command("AUTH PLAIN " + base64(token));
    if (r.auth.code != 235) {
      return;
    }
  }
  r.mail = c.command("MAIL FROM:<" + m.from + ">");
  if (!r.mail.positive()) {
    return;
  }
  bool any_rcpt = false;
  for (const auto& to : m.to) {
    r.rcpt.push_back(c.command("RCPT TO:<" + to + ">"));
    any_rcpt = any_rcpt || r.rcpt.back().positive();
  }
  if (!any_rcpt) {
    return;
  }
  r.data = c.command("DATA");
  if (r.data.code != 354) {
    return;
  }
  c.send(smtp_data_encode(m.data) + ".\r\n");
  r.end = c.reply();
}

}  // namespace

std::string SubmitResult::queue_id() const {
  static constexpr std::string_view kMarker = "queued as ";
  const auto pos = end.text.find(kMarker);
  if (pos == std::string::npos) {
    return "";
  }
  const auto start = pos + kMarker.size();
  const auto stop = end.text.find_first_of(" \n", start);
  return end.text.substr(start, stop == std::string::npos ? std::string::npos : stop - start);
}

std::string smtp_data_encode(std::string_view data) {
  std::string out;
  out.reserve(data.size() + data.size() / 32 + 4);
  while (!data.empty()) {
    const auto nl = data.find('\n');
    std::string_view line = data.substr(0, nl);
    data.remove_prefix(nl == std::string_view::npos ? data.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (!line.empty() && line.front() == '.') {
      out += '.';
    }
    out += line;
    out += "\r\n";
  }
  return out;
}

SubmitResult smtp_submit(std::uint16_t port, const Message& m, std::chrono::seconds timeout) {
  SubmitResult r;
  try {
    Connection c(port, timeout);
    run_dialogue(c, m, r);
    try {
      c.command("QUIT");
    } catch (const std::exception&) {
      // The server may already have closed after a 421; the result stands.
    }
  } catch (const std::exception& e) {
    r.error = e.what();
  }
  return r;
}

}  // namespace harness
