#include "demo/report_html.h"

#include "eval/base64.h"
#include "eval/xml_escape.h"
#include "io/files.h"

#include <sstream>
#include <vector>

namespace seva::demo {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string image_tag(const std::string& alt, const std::string& path, const std::string& base_dir) {
  const char* mime = ends_with(path, ".svg")                               ? "image/svg+xml"
                     : ends_with(path, ".png")                             ? "image/png"
                     : ends_with(path, ".jpg") || ends_with(path, ".jpeg") ? "image/jpeg"
                                                                           : nullptr;
  const std::string file = io::join_path(base_dir, path);
  if (mime && io::file_exists(file)) {
    try {
      return "<img alt=\"" + eval::xml_escape(alt) + "\" src=\"data:" + mime + ";base64," +
             eval::base64_encode(io::read_file(file)) + "\">";
    } catch (const std::exception&) {
      // unreadable: shown as text below
    }
  }
  return "<span class=\"missing\">[" + eval::xml_escape(alt.empty() ? "image" : alt) + ": " + eval::xml_escape(path) +
         "]</span>";
}

// **bold**, `code`, ![alt](path) and "\|" inside one line of text.
std::string inline_html(const std::string& s, const std::string& base_dir) {
  std::string out;
  bool bold = false;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '|') {
      out += '|';
      i += 2;
    } else if (s[i] == '`') {
      size_t e = s.find('`', i + 1);
      if (e == std::string::npos) e = s.size();
      out += "<code>" + eval::xml_escape(s.substr(i + 1, e - i - 1)) + "</code>";
      i = e + 1;
    } else if (s.compare(i, 2, "**") == 0) {
      out += bold ? "</strong>" : "<strong>";
      bold = !bold;
      i += 2;
    } else if (s.compare(i, 2, "![") == 0 && s.find("](", i) != std::string::npos &&
               s.find(')', s.find("](", i)) != std::string::npos) {
      const size_t mid = s.find("](", i), close = s.find(')', mid);
      out += image_tag(s.substr(i + 2, mid - i - 2), s.substr(mid + 2, close - mid - 2), base_dir);
      i = close + 1;
    } else {
      out += eval::xml_escape(std::string(1, s[i]));
      ++i;
    }
  }
  if (bold) out += "</strong>";
  return out;
}

// The cells of "| a | b \| c |": split at unescaped pipes, the outer ones dropped, trimmed.
std::vector<std::string> table_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cur;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
      cur += "\\|";
      ++i;
    } else if (line[i] == '|') {
      cells.push_back(cur);
      cur.clear();
    } else {
      cur += line[i];
    }
  }
  cells.push_back(cur);
  if (!cells.empty() && cells.front().find_first_not_of(' ') == std::string::npos) cells.erase(cells.begin());
  if (!cells.empty() && cells.back().find_first_not_of(' ') == std::string::npos) cells.pop_back();
  for (auto& c : cells) {
    const size_t b = c.find_first_not_of(' '), e = c.find_last_not_of(' ');
    c = b == std::string::npos ? "" : c.substr(b, e - b + 1);
  }
  return cells;
}

bool is_separator_row(const std::string& line) {
  return line.rfind("|", 0) == 0 && line.find_first_not_of("|-: ") == std::string::npos &&
         line.find('-') != std::string::npos;
}

}  // namespace

std::string report_html(const std::string& markdown, const std::string& base_dir, const std::string& title) {
  std::vector<std::string> lines;
  std::istringstream in(markdown);
  for (std::string line; std::getline(in, line);) lines.push_back(line);

  std::string body;
  std::string paragraph;
  auto flush_paragraph = [&] {
    if (!paragraph.empty()) body += "<p>" + inline_html(paragraph, base_dir) + "</p>\n";
    paragraph.clear();
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.rfind("```", 0) == 0) {  // fenced code, verbatim to the closing fence
      flush_paragraph();
      body += "<pre><code>";
      for (++i; i < lines.size() && lines[i].rfind("```", 0) != 0; ++i) body += eval::xml_escape(lines[i]) + "\n";
      body += "</code></pre>\n";
    } else if (line.rfind("#", 0) == 0) {
      flush_paragraph();
      const size_t level = line.find_first_not_of('#');
      if (level == std::string::npos || level > 6 || line[level] != ' ') {
        paragraph = line;
        continue;
      }
      const std::string h = "h" + std::to_string(level);
      body += "<" + h + ">" + inline_html(line.substr(level + 1), base_dir) + "</" + h + ">\n";
    } else if (line.rfind("|", 0) == 0) {
      flush_paragraph();
      const bool header = i + 1 < lines.size() && is_separator_row(lines[i + 1]);
      body += "<table>\n";
      if (header) {
        body += "<thead><tr>";
        for (const auto& c : table_cells(line)) body += "<th>" + inline_html(c, base_dir) + "</th>";
        body += "</tr></thead>\n";
        i += 1;
      }
      body += "<tbody>\n";
      for (size_t j = header ? i + 1 : i; j < lines.size() && lines[j].rfind("|", 0) == 0; i = j++) {
        body += "<tr>";
        for (const auto& c : table_cells(lines[j])) body += "<td>" + inline_html(c, base_dir) + "</td>";
        body += "</tr>\n";
      }
      body += "</tbody></table>\n";
    } else if (line.find_first_not_of(' ') == std::string::npos) {
      flush_paragraph();
    } else {
      if (!paragraph.empty()) paragraph += ' ';
      paragraph += line;
    }
  }
  flush_paragraph();
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" + eval::xml_escape(title) +
         "</title>\n<style>\n"
         "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;line-height:1.45}\n"
         "table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccc;padding:.25rem .5rem}\n"
         "th{background:#f3f3f3}td img{width:96px;image-rendering:pixelated}\n"
         "pre{background:#f6f6f6;padding:.75rem;overflow-x:auto}code{font-size:.9em}.missing{color:#a00}\n"
         "</style>\n</head>\n<body>\n" +
         body + "</body>\n</html>\n";
}

}  // namespace seva::demo
