#include "milter/spool.h"

namespace milter {

BodySpool::BodySpool(std::filesystem::path dir, std::size_t threshold)
    : dir_(std::move(dir)), threshold_(threshold) {}

BodySpool::~BodySpool() {
  clear();
}

void BodySpool::clear() noexcept {
  file_.reset();  // closes and unlinks
  memory_.clear();
  memory_.shrink_to_fit();
  size_ = 0;
}

policy::Status BodySpool::spill() {
  auto file = smime::TempFile::create(dir_);
  if (!file) {
    return std::move(file).error();
  }
  file_.emplace(std::move(*file));
  auto st = file_->append(memory_);
  memory_.clear();
  memory_.shrink_to_fit();
  return st;
}

policy::Status BodySpool::append(std::span<const std::byte> chunk) {
  const std::string_view data(reinterpret_cast<const char*>(chunk.data()), chunk.size());
  if (!file_ && size_ + chunk.size() > threshold_) {
    if (auto st = spill(); !st) {
      return st;
    }
  }
  size_ += chunk.size();
  if (file_) {
    return file_->append(data);
  }
  memory_.append(data);
  return {};
}

policy::Result<std::string> BodySpool::contents() const {
  if (!file_) {
    return memory_;
  }
  auto out = file_->contents();
  if (out && out->size() != size_) {
    return policy::unexpected(policy::Errc::kIo,
                              "spool file " + file_->path().string() + " is shorter than written");
  }
  return out;
}

}  // namespace milter
