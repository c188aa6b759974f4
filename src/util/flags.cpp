#include "util/flags.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace seva::util {

Flag::Flag(std::string name_, std::string help_) : name(std::move(name_)), help(std::move(help_)) {}

Flag& Flag::require() {
  required = true;
  return *this;
}
Flag& Flag::existing_file() {
  check = Check::existing_file;
  return *this;
}
Flag& Flag::existing_dir() {
  check = Check::existing_dir;
  return *this;
}
Flag& Flag::positive() {
  check = Check::positive;
  return *this;
}
Flag& Flag::non_negative() {
  check = Check::non_negative;
  return *this;
}
Flag& Flag::range(double lo, double hi) {
  check = Check::range;
  min = lo;
  max = hi;
  return *this;
}
Flag& Flag::one_of(std::vector<std::string> names) {
  check = Check::choices;
  choices = std::move(names);
  return *this;
}
Flag& Flag::split_on(char c) {
  delimiter = c;
  return *this;
}
Flag& Flag::hide_default() {
  show_default = false;
  return *this;
}
Flag& Flag::exclude(std::string other) {
  excludes = std::move(other);
  return *this;
}

std::string format_double(double v) {
  if (!std::isfinite(v)) throw std::invalid_argument("format_double: " + std::to_string(v) + " is not finite");
  char buf[40];
  // CLI11 reads a double through strtold: the text must come back to v that way.
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (static_cast<double>(std::strtold(buf, nullptr)) == v) break;
  }
  return buf;
}

void ArgvWriter::put(const Flag& f, const std::string& shown, const std::vector<std::string>& args) {
  if (!writing_) {
    if (!defaults_.emplace(f.name, shown).second) throw std::logic_error("flag " + f.name + " is listed twice");
    return;
  }
  auto it = defaults_.find(f.name);
  if (it == defaults_.end()) throw std::logic_error("flag " + f.name + " was not in the defaults' pass");
  if (!f.required && it->second == shown) return;
  if (args.empty()) {
    argv_.push_back(f.name);
    return;
  }
  for (const auto& a : args) {
    // A value that starts with a dash and is no number would read as a flag: give it with '='.
    const bool dash = !a.empty() && a[0] == '-' && !(a.size() > 1 && (std::isdigit(static_cast<unsigned char>(a[1])) || a[1] == '.'));
    if (dash) {
      argv_.push_back(f.name + "=" + a);
    } else {
      argv_.push_back(f.name);
      argv_.push_back(a);
    }
  }
}

void ArgvWriter::add(const Flag& f, std::string& value) {
  if (writing_ && f.required && value.empty()) throw std::invalid_argument("flag " + f.name + " is required but empty");
  put(f, value, {value});
}

void ArgvWriter::add(const Flag& f, double& value) {
  const std::string s = format_double(value);
  put(f, s, {s});
}

void ArgvWriter::add(const Flag& f, int& value) { put(f, std::to_string(value), {std::to_string(value)}); }
void ArgvWriter::add(const Flag& f, int64_t& value) { put(f, std::to_string(value), {std::to_string(value)}); }
void ArgvWriter::add(const Flag& f, uint64_t& value) { put(f, std::to_string(value), {std::to_string(value)}); }

void ArgvWriter::add(const Flag& f, bool& value) {
  if (writing_ && !value && defaults_.count(f.name) && defaults_.at(f.name) == "true")
    throw std::invalid_argument("switch " + f.name + " is on by default and cannot be turned off");
  // A switch that is off is never written (it is off unless given).
  if (writing_ && !value) return;
  put(f, value ? "true" : "false", {});
}

void ArgvWriter::add(const Flag& f, std::vector<std::string>& value) {
  // The shown form keeps the elements apart whatever they hold (NUL cannot be in an argument).
  std::string shown;
  for (const auto& v : value) shown += v + '\0';
  if (!writing_) {
    put(f, shown, {});
    return;
  }
  if (value.empty() && defaults_.count(f.name) && !defaults_.at(f.name).empty())
    throw std::invalid_argument("flag " + f.name + ": an empty list cannot be given (its default is not empty)");
  if (f.required && value.empty()) throw std::invalid_argument("flag " + f.name + " is required but empty");
  std::vector<std::string> args;
  if (f.delimiter) {
    std::string joined;
    for (const auto& v : value) {
      if (v.find(f.delimiter) != std::string::npos)
        throw std::invalid_argument("flag " + f.name + ": '" + v + "' holds the list's delimiter '" +
                                    std::string(1, f.delimiter) + "'");
      joined += (joined.empty() ? "" : std::string(1, f.delimiter)) + v;
    }
    args.push_back(joined);
  } else {
    args = value;
  }
  put(f, shown, args);
}

void ArgvWriter::add(const Flag& f, const TextValue& value) {
  const std::string s = value.get();
  put(f, s, {s});
}

}  // namespace seva::util
