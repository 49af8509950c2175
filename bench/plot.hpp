// bench/plot.hpp — charts: hand-written SVG (no dependency), and PNG through
// gnuplot when it is installed.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace gb {

struct series {
  std::string name;                             // the implementation
  std::vector<std::pair<double, double>> pts;   // (x, y); bars: x = category index
};

struct chart {
  enum class kind { lines, bars };
  std::string file;  // base name, no extension
  std::string title;
  std::string xlabel;
  std::string ylabel;
  kind type = kind::lines;
  bool logx = false;
  bool logy = false;
  std::vector<std::string> categories;  // bars: one label per x index
  std::vector<series> data;
};

// An empirical CDF (x = value, y = fraction <= x) of samples, thinned to at
// most max_points points.
series cdf_series(const std::string& name, std::vector<double> samples, std::size_t max_points = 400);

// Writes DIR/<file>.svg for each chart, and DIR/<file>.png when gnuplot is
// on PATH.  Returns the paths written.
std::vector<std::string> write_charts(const std::vector<chart>& charts, const std::string& dir);

}  // namespace gb
