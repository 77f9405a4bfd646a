#pragma once

#include "cpuprof/output/top_model.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cpuprof::output {

/// What a column of the live table shows.
enum class TopField : std::uint8_t {
    OwnShare,
    TotalShare,
    OwnTime,
    TotalTime,
    OwnCounter,
    TotalCounter,
    Thread,
    Function,
};

/// One column of the live table as drawn. The last column (the function) takes the width left.
struct TopColumn {
    TopField field = TopField::Function;
    std::string title;
    std::size_t width = 0;
    bool left = false;           ///< left-aligned text rather than a right-aligned number
    std::optional<TopSort> sort; ///< the sort key it answers to
};

/// Spaces between two columns.
inline constexpr std::size_t kTopColumnGap = 2;
/// Narrower than this, the function column makes room by dropping the counter columns.
inline constexpr std::size_t kTopMinFunctionWidth = 24;

/// The columns for the model's view and counter that fit `width` (0: no limit): times, then
/// instructions (or CPU time where the machine has no hardware counter), the thread in the
/// per-thread view, the function.
[[nodiscard]] std::vector<TopColumn> top_columns(const TopModel& model, std::size_t width);
/// The cells of one row for `columns`.
[[nodiscard]] std::vector<std::string>
top_cells(const TopModel& model, const TopRow& row, const std::vector<TopColumn>& columns);
/// The columns' titles, for a top_line().
[[nodiscard]] std::vector<std::string> top_titles(const std::vector<TopColumn>& columns);
/// Cells (or titles) laid out in `width` columns of text; 0 means no limit (plain output).
[[nodiscard]] std::string top_line(const std::vector<TopColumn>& columns,
                                   const std::vector<std::string>& cells,
                                   std::size_t width);
/// Where column `index` starts in a top_line().
[[nodiscard]] std::size_t top_column_offset(const std::vector<TopColumn>& columns,
                                            std::size_t index);

/// The header above the table: the target, then the sampler's figures, then the view.
[[nodiscard]] std::vector<std::string> top_header_lines(const TopModel& model);
/// The keys, as the screen's last line documents them.
[[nodiscard]] std::string top_keys_line();

/// "0.25s", "12.5s", "340s": three significant figures at most, for the time columns.
[[nodiscard]] std::string format_seconds(double seconds);
/// "950", "1.23K", "45.6M", "7.89G" for instruction counts.
[[nodiscard]] std::string format_count(std::uint64_t count);
/// The first `width` characters of UTF-8 `text` (a code point counts as one column).
[[nodiscard]] std::string fit_width(std::string_view text, std::size_t width);

} // namespace cpuprof::output
