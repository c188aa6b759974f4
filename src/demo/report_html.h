// report.html: the demo's report.md as one self-contained HTML page, every chart and example
// image inlined as a data: URI, so the single file can be mailed, attached to an issue or opened
// anywhere without the run directory next to it.
#pragma once
#include <string>

namespace seva::demo {

// Renders the Markdown subset that write_report emits: "#"/"##"/"###" headings, paragraphs,
// pipe tables (cells may hold "\|"), fenced code blocks, **bold**, `code` and ![alt](path)
// images. Image paths are read relative to `base_dir` (SVG, PNG, JPEG); an image that cannot be
// read stays visible as its alt text and path. `title` is the page's <title>.
std::string report_html(const std::string& markdown, const std::string& base_dir, const std::string& title);

}  // namespace seva::demo
