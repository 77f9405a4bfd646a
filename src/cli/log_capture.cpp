#include "cpuprof/cli/log_capture.hpp"

#include <deque>
#include <fmt/format.h>
#include <mutex>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <utility>

namespace cpuprof::cli {

namespace {
// Enough for the distinct warnings of a run; a flood keeps its newest lines.
constexpr std::size_t kKeptMessages = 20;
} // namespace

class LogCapture::Sink final : public spdlog::sinks::base_sink<std::mutex> {
  public:
    struct Message {
        spdlog::level::level_enum level;
        std::string text;
    };

    [[nodiscard]] std::string latest() {
        std::lock_guard lock(mutex_);
        if (kept_.empty()) {
            return {};
        }
        const auto level = spdlog::level::to_string_view(kept_.back().level);
        return fmt::format("{}: {}", std::string_view(level.data(), level.size()),
                           kept_.back().text);
    }

    /// The kept messages and how many older ones were dropped; the sink is empty afterwards.
    std::pair<std::deque<Message>, std::size_t> take() {
        std::lock_guard lock(mutex_);
        return {std::exchange(kept_, {}), std::exchange(dropped_, 0)};
    }

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        kept_.push_back({msg.level, std::string(msg.payload.data(), msg.payload.size())});
        if (kept_.size() > kKeptMessages) {
            kept_.pop_front();
            ++dropped_;
        }
    }
    void flush_() override {}

  private:
    std::deque<Message> kept_;
    std::size_t dropped_ = 0;
};

LogCapture::LogCapture()
    : sink_(std::make_shared<Sink>())
    , previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>(previous_->name(), sink_);
    logger->set_level(previous_->level());
    spdlog::set_default_logger(std::move(logger));
}

LogCapture::~LogCapture() {
    spdlog::set_default_logger(previous_);
    auto [messages, dropped] = sink_->take();
    if (dropped > 0) {
        previous_->log(spdlog::level::warn, "{} earlier messages were not kept", dropped);
    }
    for (const auto& message : messages) {
        previous_->log(message.level, "{}", message.text);
    }
}

std::string LogCapture::latest() const {
    return sink_->latest();
}

} // namespace cpuprof::cli
