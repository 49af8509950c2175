// bench/plot.cpp — see plot.hpp.  The SVG is laid out by hand: a frame,
// ticks (decades on log axes), one polyline or bar group per series, a
// legend.
#include "plot.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace gb {
namespace {

constexpr double kW = 760, kH = 440;                           // canvas
constexpr double kLeft = 80, kRight = 180, kTop = 40, kBottom = 60;  // margins
const char* const kColors[] = {"#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

struct axis {
  double lo = 0, hi = 1;
  bool log = false;
  double map(double v, double a, double b) const {  // to pixels a..b
    const double t = log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo))
                         : (v - lo) / (hi - lo);
    return a + t * (b - a);
  }
};

axis make_axis(const std::vector<double>& vals, bool log, bool from_zero) {
  axis ax;
  ax.log = log;
  double lo = HUGE_VAL, hi = -HUGE_VAL;
  for (double v : vals) {
    if (std::isnan(v) || (log && v <= 0)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (lo > hi) lo = hi = 1;
  if (log) {
    ax.lo = std::pow(10, std::floor(std::log10(lo)));
    ax.hi = std::pow(10, std::ceil(std::log10(hi)));
    if (ax.hi <= ax.lo) ax.hi = ax.lo * 10;
  } else {
    ax.lo = from_zero ? std::min(0.0, lo) : lo;
    ax.hi = hi <= ax.lo ? ax.lo + 1 : hi * 1.05;
  }
  return ax;
}

std::vector<double> ticks(const axis& ax) {
  std::vector<double> t;
  if (ax.log) {
    for (double v = ax.lo; v <= ax.hi * 1.0001; v *= 10) t.push_back(v);
    return t;
  }
  const double span = ax.hi - ax.lo;
  const double raw = span / 5;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  const double step = raw / mag >= 5 ? 5 * mag : raw / mag >= 2 ? 2 * mag : mag;
  for (double v = std::ceil(ax.lo / step) * step; v <= ax.hi + step * 1e-9; v += step) t.push_back(v);
  return t;
}

std::string num(double v) {
  char b[32];
  const double a = std::fabs(v);
  if (a != 0 && (a >= 1e6 || a < 1e-2)) {
    std::snprintf(b, sizeof b, "%.0e", v);
  } else {
    std::snprintf(b, sizeof b, "%g", v);
  }
  return b;
}

std::string escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else o += c;
  }
  return o;
}

bool write_svg(const chart& c, const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  const double x0 = kLeft, x1 = kW - kRight, y0 = kH - kBottom, y1 = kTop;
  std::vector<double> xs, ys;
  for (const series& s : c.data) {
    for (auto [x, y] : s.pts) {
      xs.push_back(x);
      ys.push_back(y);
    }
  }
  const bool bars = c.type == chart::kind::bars;
  axis ax = make_axis(xs, c.logx, false);
  if (bars) {
    ax.lo = -0.5;
    ax.hi = static_cast<double>(c.categories.size()) - 0.5;
  }
  const axis ay = make_axis(ys, c.logy, true);
  std::fprintf(f,
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
               "<text x=\"%g\" y=\"24\" font-size=\"15\" text-anchor=\"middle\">%s</text>\n",
               kW, kH, (x0 + x1) / 2, escape(c.title).c_str());
  // Grid and ticks.
  for (double t : ticks(ay)) {
    const double y = ay.map(t, y0, y1);
    std::fprintf(f,
                 "<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                 "<text x=\"%g\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                 x0, y, x1, y, x0 - 6, y + 4, num(t).c_str());
  }
  if (bars) {
    for (std::size_t i = 0; i < c.categories.size(); ++i) {
      const double x = ax.map(static_cast<double>(i), x0, x1);
      std::fprintf(f, "<text x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">%s</text>\n", x, y0 + 18,
                   escape(c.categories[i]).c_str());
    }
  } else {
    for (double t : ticks(ax)) {
      const double x = ax.map(t, x0, x1);
      std::fprintf(f,
                   "<line x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\" stroke=\"#ddd\"/>"
                   "<text x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">%s</text>\n",
                   x, y0, x, y1, x, y0 + 18, num(t).c_str());
    }
  }
  std::fprintf(f,
               "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" fill=\"none\" stroke=\"#333\"/>\n"
               "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">%s</text>\n"
               "<text x=\"18\" y=\"%g\" text-anchor=\"middle\" transform=\"rotate(-90 18 %g)\">%s</text>\n",
               x0, y1, x1 - x0, y0 - y1, (x0 + x1) / 2, kH - 18, escape(c.xlabel).c_str(),
               (y0 + y1) / 2, (y0 + y1) / 2, escape(c.ylabel).c_str());
  const std::size_t n = c.data.size();
  for (std::size_t si = 0; si < n; ++si) {
    const series& s = c.data[si];
    const char* color = kColors[si % (sizeof kColors / sizeof *kColors)];
    if (bars) {
      const double slot = (x1 - x0) / static_cast<double>(std::max<std::size_t>(1, c.categories.size()));
      const double w = slot * 0.8 / static_cast<double>(n);
      for (auto [x, y] : s.pts) {
        if (std::isnan(y) || (c.logy && y <= 0)) continue;
        const double cx = ax.map(x, x0, x1) - slot * 0.4 + w * static_cast<double>(si);
        const double top = ay.map(y, y0, y1);
        const double base = c.logy ? y0 : ay.map(std::max(ay.lo, 0.0), y0, y1);
        std::fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
                     cx, std::min(top, base), w, std::fabs(base - top), color);
      }
    } else {
      std::fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
      for (auto [x, y] : s.pts) {
        if (std::isnan(x) || std::isnan(y) || (c.logx && x <= 0) || (c.logy && y <= 0)) continue;
        std::fprintf(f, "%.1f,%.1f ", ax.map(x, x0, x1), ay.map(y, y0, y1));
      }
      std::fprintf(f, "\"/>\n");
    }
    const double ly = y1 + 16 + 20 * static_cast<double>(si);
    std::fprintf(f,
                 "<rect x=\"%g\" y=\"%g\" width=\"14\" height=\"10\" fill=\"%s\"/>"
                 "<text x=\"%g\" y=\"%g\">%s</text>\n",
                 x1 + 14, ly - 9, color, x1 + 34, ly, escape(s.name).c_str());
  }
  std::fprintf(f, "</svg>\n");
  return std::fclose(f) == 0;
}

bool have_gnuplot() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

// PNG through gnuplot: pngcairo if the build has it, else the libgd png
// terminal (gnuplot-nox).
bool write_png(const chart& c, const std::string& dir) {
  const std::string base = dir + "/" + c.file;
  const std::string dat = base + ".dat", gp = base + ".gp";
  std::FILE* d = std::fopen(dat.c_str(), "w");
  if (d == nullptr) return false;
  for (const series& s : c.data) {
    std::fprintf(d, "# %s\n", s.name.c_str());
    for (auto [x, y] : s.pts) std::fprintf(d, "%.9g %.9g\n", x, y);
    std::fprintf(d, "\n\n");
  }
  std::fclose(d);
  std::FILE* g = std::fopen(gp.c_str(), "w");
  if (g == nullptr) return false;
  std::fprintf(g,
               "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) set terminal pngcairo size 760,440; "
               "else set terminal png size 760,440\n"
               "set output '%s.png'\nset title \"%s\"\nset xlabel \"%s\"\nset ylabel \"%s\"\n"
               "set termoption noenhanced\nset key outside right\nset grid\n%s%s",
               base.c_str(), c.title.c_str(), c.xlabel.c_str(), c.ylabel.c_str(),
               c.logx ? "set logscale x\n" : "", c.logy ? "set logscale y\n" : "");
  if (c.type == chart::kind::bars) {
    std::fprintf(g, "set style fill solid\nset boxwidth %g\nset xtics (", 0.8 / std::max<double>(1, static_cast<double>(c.data.size())));
    for (std::size_t i = 0; i < c.categories.size(); ++i) {
      std::fprintf(g, "%s\"%s\" %zu", i ? ", " : "", c.categories[i].c_str(), i);
    }
    std::fprintf(g, ")\nset xrange [-0.5:%zu]\n%s", c.categories.size(), c.logy ? "" : "set yrange [0:*]\n");
  }
  std::fprintf(g, "plot ");
  const double n = static_cast<double>(c.data.size());
  for (std::size_t i = 0; i < c.data.size(); ++i) {
    if (c.type == chart::kind::bars) {
      const double off = -0.4 + 0.8 / n * (static_cast<double>(i) + 0.5);
      std::fprintf(g, "%s'%s' index %zu using ($1%+g):2 with boxes title '%s'", i ? ", " : "",
                   dat.c_str(), i, off, c.data[i].name.c_str());
    } else {
      std::fprintf(g, "%s'%s' index %zu using 1:2 with lines lw 2 title '%s'", i ? ", " : "",
                   dat.c_str(), i, c.data[i].name.c_str());
    }
  }
  std::fprintf(g, "\n");
  std::fclose(g);
  const std::string cmd = "gnuplot '" + gp + "' >/dev/null 2>&1";
  const bool ok = std::system(cmd.c_str()) == 0;
  std::remove(dat.c_str());
  std::remove(gp.c_str());
  return ok;
}

}  // namespace

series cdf_series(const std::string& name, std::vector<double> samples, std::size_t max_points) {
  series s{name, {}};
  std::erase_if(samples, [](double v) { return std::isnan(v); });
  std::sort(samples.begin(), samples.end());
  const std::size_t n = samples.size();
  if (n == 0) return s;
  const std::size_t step = std::max<std::size_t>(1, n / max_points);
  for (std::size_t i = 0; i < n; i += step) {
    s.pts.emplace_back(samples[i], static_cast<double>(i + 1) / static_cast<double>(n));
  }
  s.pts.emplace_back(samples.back(), 1.0);
  return s;
}

std::vector<std::string> write_charts(const std::vector<chart>& charts, const std::string& dir) {
  std::vector<std::string> written;
  std::string path;
  for (std::size_t i = 0; i <= dir.size(); ++i) {  // mkdir -p
    if (i == dir.size() || dir[i] == '/') {
      path = dir.substr(0, i);
      if (!path.empty()) mkdir(path.c_str(), 0755);
    }
  }
  const bool png = have_gnuplot();
  for (const chart& c : charts) {
    if (write_svg(c, dir + "/" + c.file + ".svg")) written.push_back(dir + "/" + c.file + ".svg");
    if (png && write_png(c, dir)) written.push_back(dir + "/" + c.file + ".png");
  }
  return written;
}

}  // namespace gb
