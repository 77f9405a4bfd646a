#include "cpuprof/cli/top_screen.hpp"

#include "cpuprof/error.hpp"
#include "cpuprof/output/top_text.hpp"

#include <algorithm>
#include <clocale>
#include <cstdlib>
#include <curses.h>
#include <fmt/format.h>
#include <vector>

namespace cpuprof::cli {

namespace {

// Rows above the table: the header lines, then the status line.
constexpr int kTableTop = 5;

void put_line(int y, int width, const std::string& text, attr_t attributes) {
    if (width <= 0) {
        return;
    }
    const std::string shown = output::fit_width(text, static_cast<std::size_t>(width));
    attron(attributes);
    mvaddstr(y, 0, shown.c_str());
    attroff(attributes);
}

} // namespace

TopScreen::TopScreen() {
    // Function and file names are UTF-8; ncursesw needs the locale to count their columns.
    // LC_CTYPE only: LC_NUMERIC would change the decimal point of every number printed.
    std::setlocale(LC_CTYPE, "");
    screen_ = newterm(nullptr, stdout, stdin);
    if (screen_ == nullptr) {
        const char* term = std::getenv("TERM");
        throw Error(fmt::format("cannot drive the terminal (TERM={}): set TERM to the terminal's "
                                "type, or pipe cpuprof top's output for a plain table",
                                term != nullptr ? term : "unset"));
    }
    set_term(screen_);
    // cbreak, not raw: Ctrl-C stays a SIGINT, which the session turns into a clean stop.
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    curs_set(0);
}

TopScreen::~TopScreen() {
    endwin();
    delscreen(screen_);
}

std::optional<int> TopScreen::next_key() {
    for (;;) {
        const int key = getch();
        if (key == ERR) {
            return std::nullopt;
        }
        if (key != KEY_RESIZE) {
            return key;
        }
    }
}

void TopScreen::draw(const output::TopModel& model, const std::string& status) {
    erase();
    const int height = LINES;
    const int width = COLS;
    const auto header = output::top_header_lines(model);
    int y = 0;
    for (const auto& line : header) {
        put_line(y, width, line, y == 0 ? A_BOLD : A_NORMAL);
        ++y;
    }
    put_line(y, width, status, A_BOLD);

    const auto columns = output::top_columns(model, static_cast<std::size_t>(width));
    std::string title =
        output::top_line(columns, output::top_titles(columns), static_cast<std::size_t>(width));
    title.resize(static_cast<std::size_t>(std::max(width, 0)), ' ');
    put_line(kTableTop - 1, width, title, A_REVERSE);
    for (std::size_t i = 0; i < columns.size(); ++i) {
        if (columns[i].sort == model.view().sort) {
            const std::size_t x = output::top_column_offset(columns, i);
            const std::size_t pad = columns[i].width - columns[i].title.size();
            if (static_cast<int>(x + pad) < width) {
                attron(A_REVERSE | A_BOLD | A_UNDERLINE);
                mvaddnstr(kTableTop - 1, static_cast<int>(x + pad), columns[i].title.c_str(),
                          width - static_cast<int>(x + pad));
                attroff(A_REVERSE | A_BOLD | A_UNDERLINE);
            }
        }
    }

    // The last line documents the keys, the one above shows the latest diagnostic if any; the
    // table fills what is between.
    const std::string log_line = logs_.latest();
    const int last_row = height - (log_line.empty() ? 2 : 3);
    y = kTableTop;
    if (model.rows().empty() && y <= last_row) {
        put_line(y, width, "(no samples yet: waiting for the target's Python threads to run)",
                 A_NORMAL);
    }
    for (const output::TopRow* row : model.rows()) {
        if (y > last_row) {
            break;
        }
        put_line(y++, width,
                 output::top_line(columns, output::top_cells(model, *row, columns),
                                  static_cast<std::size_t>(width)),
                 A_NORMAL);
    }
    if (!log_line.empty() && height - 2 > kTableTop) {
        put_line(height - 2, width, log_line, A_BOLD);
    }
    if (height > kTableTop) {
        // One column short of the corner: writing the bottom-right cell would scroll the screen.
        put_line(height - 1, width - 1, output::top_keys_line(), A_DIM);
    }
    refresh();
}

} // namespace cpuprof::cli
