// canonical_entity(): the entity to sign made 7-bit clean and CRLF canonical with
// GMime (RFC 8551 3.1), from a string or, for a body that lives in a file, through
// temporary files with memory bounded (canonical_entity_file).
#include <fcntl.h>
#include <memory>
#include <unistd.h>

#include <gmime/gmime.h>

#include "smime/gobj.h"
#include "smime/mime.h"
#include "smime/mime_detail.h"

namespace smime {

namespace {

using detail::kMaxLine;
using policy::Errc;
using policy::unexpected;

struct FormatOptionsFree {
  void operator()(GMimeFormatOptions* o) const noexcept { ::g_mime_format_options_free(o); }
};
using FormatOptions = std::unique_ptr<GMimeFormatOptions, FormatOptionsFree>;

// True when LF-form content cannot travel as 7bit unchanged: 8-bit octets, NUL, a CR,
// a line of 998 octets or more, or a "From " line that mbox-style relays mangle.
bool needs_transfer_encoding(std::string_view s) {
  detail::TransferCheck check;
  check.feed(s);
  return check.needs();
}

// The same for a stream read from its start in chunks (left at its start again); a
// stream that cannot be read counts as clean, as an empty content would.
bool needs_transfer_encoding(GMimeStream* stream) {
  detail::TransferCheck check;
  if (stream == nullptr || ::g_mime_stream_reset(stream) != 0) {
    return false;
  }
  std::string buf(64U * 1024U, '\0');
  for (;;) {
    const gssize n = ::g_mime_stream_read(stream, buf.data(), buf.size());
    if (n <= 0) {
      break;
    }
    check.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    if (check.needs()) {
      break;
    }
  }
  ::g_mime_stream_reset(stream);
  return check.needs();
}

std::string stream_bytes(GMimeStream* stream) {
  GByteArray* bytes = ::g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

// Replaces a text leaf's content by its quoted-printable form with "From " line
// starts armoured as "=46rom " (mbox-style relays would turn them into ">From ").
policy::Status set_quoted_printable(GMimePart* part, const std::string& raw) {
  GPtr<GMimeStream> encoded(::g_mime_stream_mem_new());
  {
    GPtr<GMimeStream> filtered(::g_mime_stream_filter_new(encoded.get()));
    GPtr<GMimeFilter> qp(::g_mime_filter_basic_new(GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE, TRUE));
    ::g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered.get()), qp.get());
    if (::g_mime_stream_write(filtered.get(), raw.data(), raw.size()) < 0 ||
        ::g_mime_stream_flush(filtered.get()) != 0) {
      return unexpected(Errc::kInternal, "quoted-printable encoding failed");
    }
  }
  std::string text = stream_bytes(encoded.get());
  for (std::size_t pos = 0; pos < text.size(); pos = text.find('\n', pos) + 1) {
    if (std::string_view(text).substr(pos).starts_with("From ")) {
      text.replace(pos, 1, "=46");
    }
    if (text.find('\n', pos) == std::string::npos) {
      break;
    }
  }
  GPtr<GMimeStream> armoured(::g_mime_stream_mem_new_with_buffer(text.data(), text.size()));
  GPtr<GMimeDataWrapper> wrapper(::g_mime_data_wrapper_new_with_stream(
      armoured.get(), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE));
  ::g_mime_part_set_content(part, wrapper.get());
  ::g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  return {};
}

void set_base64(GMimePart* part, const std::string& decoded) {
  GPtr<GMimeStream> stream(::g_mime_stream_mem_new_with_buffer(decoded.data(), decoded.size()));
  GPtr<GMimeDataWrapper> wrapper(
      ::g_mime_data_wrapper_new_with_stream(stream.get(), GMIME_CONTENT_ENCODING_DEFAULT));
  ::g_mime_part_set_content(part, wrapper.get());
  ::g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
}

// Re-encodes one leaf so it is 7-bit safe (RFC 8551 3.1.2: 7-bit for signed data).
// Parts already in base64/QP are kept as written unless their encoded form itself
// breaks the rules (8-bit octets, lines of 998+ octets, bare "From "). The checks read
// the content as a stream (it stays in the file for canonical_entity_file); only a
// leaf that must be re-encoded is decoded into memory.
policy::Status make_leaf_7bit(GMimePart* part) {
  GMimeDataWrapper* content = ::g_mime_part_get_content(part);  // borrowed
  if (content == nullptr) {
    return {};
  }
  const GMimeContentEncoding enc = ::g_mime_part_get_content_encoding(part);
  const bool encoded = enc == GMIME_CONTENT_ENCODING_BASE64 ||
                       enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
                       enc == GMIME_CONTENT_ENCODING_UUENCODE;
  // Unencoded (7bit/8bit/binary) content decodes to itself, so one check serves both.
  if (!needs_transfer_encoding(::g_mime_data_wrapper_get_stream(content))) {
    return {};
  }
  GPtr<GMimeStream> mem(::g_mime_stream_mem_new());
  if (::g_mime_data_wrapper_write_to_stream(content, mem.get()) < 0) {
    return unexpected(Errc::kMalformedInput, "cannot read the content of a MIME part");
  }
  const std::string decoded = stream_bytes(mem.get());
  if (!encoded && !needs_transfer_encoding(decoded)) {
    return {};
  }
  GMimeContentType* type = ::g_mime_object_get_content_type(GMIME_OBJECT(part));  // borrowed
  if (type != nullptr && ::g_mime_content_type_is_type(type, "text", "*")) {
    return set_quoted_printable(part, decoded);
  }
  set_base64(part, decoded);
  return {};
}

struct Walk {
  const Limits& limits;
  std::size_t parts = 0;
};

policy::Status canonicalise(GMimeObject* object, std::size_t depth, Walk& walk) {
  if (depth > walk.limits.max_mime_depth) {
    return unexpected(Errc::kLimitExceeded,
                      "MIME nesting deeper than " + std::to_string(walk.limits.max_mime_depth));
  }
  if (++walk.parts > walk.limits.max_mime_parts) {
    return unexpected(Errc::kLimitExceeded,
                      "more than " + std::to_string(walk.limits.max_mime_parts) + " MIME parts");
  }
  if (GMIME_IS_MULTIPART(object)) {
    GMimeMultipart* multipart = GMIME_MULTIPART(object);
    // Preamble and epilogue are not part of any body part and relays rewrite them.
    ::g_mime_multipart_set_prologue(multipart, nullptr);
    ::g_mime_multipart_set_epilogue(multipart, nullptr);
    const int count = ::g_mime_multipart_get_count(multipart);
    for (int i = 0; i < count; ++i) {
      auto st = canonicalise(::g_mime_multipart_get_part(multipart, i), depth + 1, walk);
      if (!st) {
        return st;
      }
    }
    return {};
  }
  if (GMIME_IS_MESSAGE_PART(object)) {
    GMimeMessage* inner = ::g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
    if (inner == nullptr || ::g_mime_message_get_mime_part(inner) == nullptr) {
      return {};
    }
    return canonicalise(::g_mime_message_get_mime_part(inner), depth + 1, walk);
  }
  if (GMIME_IS_PART(object)) {
    return make_leaf_7bit(GMIME_PART(object));
  }
  return {};
}

policy::Status check_line_lengths(std::string_view crlf) {
  std::size_t start = 0;
  while (start < crlf.size()) {
    std::size_t end = crlf.find("\r\n", start);
    if (end == std::string_view::npos) {
      end = crlf.size();
    }
    if (end - start >= kMaxLine) {
      return unexpected(Errc::kInvalidArgument,
                        "a Content-* header line of the entity is 998 octets or longer");
    }
    start = end + 2;
  }
  return {};
}

policy::Status too_many_parts(const Limits& limits) {
  return unexpected(Errc::kLimitExceeded,
                    "more than " + std::to_string(limits.max_mime_parts) + " MIME parts");
}

std::string default_content_type(bool eight_bit) {
  return eight_bit ? "Content-Type: text/plain; charset=utf-8\n"
                   : "Content-Type: text/plain; charset=us-ascii\n";
}

// Parses the entity in `in`, canonicalises it and writes it (DOS line ends) to `out`.
policy::Status rewrite_entity(GMimeStream* in, GMimeStream* out, const Limits& limits) {
  GPtr<GMimeParser> parser(::g_mime_parser_new_with_stream(in));
  GPtr<GMimeObject> root(::g_mime_parser_construct_part(parser.get(), nullptr));
  if (!root) {
    return unexpected(Errc::kMalformedInput, "the message body is not parseable MIME");
  }
  Walk walk{limits};
  if (auto st = canonicalise(root.get(), 0, walk); !st) {
    return st;
  }
  FormatOptions format(::g_mime_format_options_new());
  ::g_mime_format_options_set_newline_format(format.get(), GMIME_NEWLINE_FORMAT_DOS);
  if (::g_mime_object_write_to_stream(root.get(), format.get(), out) < 0 ||
      ::g_mime_stream_flush(out) != 0) {
    return unexpected(Errc::kInternal, "cannot serialise the canonical entity");
  }
  return {};
}

// A GMime stream over a new descriptor for `path` (GMime owns and closes it).
GPtr<GMimeStream> file_stream(const std::filesystem::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) {
    return nullptr;
  }
  return GPtr<GMimeStream>(::g_mime_stream_fs_new(fd));
}

}  // namespace

policy::Result<std::string> canonical_entity(const SplitMessage& message, const Limits& limits) {
  mime_init();
  std::string headers = to_lf(message.content_headers);
  const std::string body = to_lf(message.body);
  if (header_value(message.content_headers, "Content-Type").empty()) {
    headers.insert(0, default_content_type(detail::has_8bit(body)));
  }
  const std::string entity = headers + "\n" + body;
  // Every container announces itself with a boundary or as message/rfc822: an upper
  // bound on the parts GMime would build, checked before it recurses.
  if (count_ci(entity, "boundary=") + count_ci(entity, "message/rfc822") > limits.max_mime_parts) {
    return too_many_parts(limits).error();
  }
  GPtr<GMimeStream> in(::g_mime_stream_mem_new_with_buffer(entity.data(), entity.size()));
  GPtr<GMimeStream> out(::g_mime_stream_mem_new());
  if (auto st = rewrite_entity(in.get(), out.get(), limits); !st) {
    return st.error();
  }
  std::string canonical = lf_to_crlf(stream_bytes(out.get()));
  if (auto st = check_line_lengths(canonical); !st) {
    return st.error();
  }
  return canonical;
}

policy::Status canonical_entity_file(std::string_view content_headers, int body_fd, TempFile& out,
                                     const std::filesystem::path& tmpdir, const Limits& limits) {
  mime_init();
  // Pass 1 over the body: 8-bit octets (for a missing Content-Type) and the part bound.
  bool eight_bit = false;
  detail::CountCiStream boundaries("boundary=");
  detail::CountCiStream rfc822("message/rfc822");
  auto st = for_each_chunk(body_fd, 0, [&](std::string_view chunk) -> policy::Status {
    eight_bit = eight_bit || detail::has_8bit(chunk);
    boundaries.feed(chunk);
    rfc822.feed(chunk);
    return {};
  });
  if (!st) {
    return st;
  }
  std::string headers = to_lf(content_headers);
  if (header_value(content_headers, "Content-Type").empty()) {
    headers.insert(0, default_content_type(eight_bit));
  }
  if (count_ci(headers, "boundary=") + count_ci(headers, "message/rfc822") + boundaries.count() +
          rfc822.count() >
      limits.max_mime_parts) {
    return too_many_parts(limits);
  }
  // Pass 2: the LF form of the entity into a scratch file GMime parses in place.
  auto lf = TempFile::create(tmpdir);
  if (!lf) {
    return std::move(lf).error();
  }
  headers += '\n';
  if (st = lf->append(headers); !st) {
    return st;
  }
  detail::ToLfStream to_lf_stream;
  std::string buf;
  st = for_each_chunk(body_fd, 0, [&](std::string_view chunk) {
    buf.clear();
    to_lf_stream.feed(chunk, buf);
    return lf->append(buf);
  });
  buf.clear();
  to_lf_stream.finish(buf);
  if (!st || (st = lf->append(buf), !st)) {
    return st;
  }
  // Pass 3: GMime canonicalises from that file into a second one.
  auto written = TempFile::create(tmpdir);
  if (!written) {
    return std::move(written).error();
  }
  {
    GPtr<GMimeStream> in = file_stream(lf->path(), O_RDONLY);
    GPtr<GMimeStream> dos = file_stream(written->path(), O_WRONLY);
    if (!in || !dos) {
      return unexpected(Errc::kIo, "cannot open the scratch files of the canonical entity");
    }
    if (st = rewrite_entity(in.get(), dos.get(), limits); !st) {
      return st;
    }
  }
  // Pass 4: CRLF everywhere, line lengths checked, appended to `out`.
  detail::LfToCrlfStream crlf;
  detail::LineLengthStream lines;
  st = for_each_chunk(written->fd(), 0, [&](std::string_view chunk) {
    buf.clear();
    crlf.feed(chunk, buf);
    lines.feed(buf);
    return out.append(buf);
  });
  if (!st) {
    return st;
  }
  if (lines.longest() >= kMaxLine) {
    return unexpected(Errc::kInvalidArgument,
                      "a Content-* header line of the entity is 998 octets or longer");
  }
  return {};
}

}  // namespace smime
