// Diffusion noise: SeVa's sigmoid schedule values and the statistics of x_t given x_0.
#include <gtest/gtest.h>

#include <cmath>

#include "aug/diffusion.h"

using namespace seva;

TEST(SevaDiffusion, ScheduleMatchesTorchFloat32) {
  // (sqrt(abar[t]), sqrt(1 - abar[t])) as torch computes them in float32.
  struct Row {
    int t;
    double s, n;
  };
  for (auto r : {Row{100, 0.99829, 0.05841}, Row{300, 0.98098, 0.19409}, Row{500, 0.86302, 0.50517},
                 Row{800, 0.46701, 0.88425}, Row{999, 0.28504, 0.95851}}) {
    auto c = aug::diffusion_coefs(r.t);
    EXPECT_NEAR(c.signal, r.s, 6e-6) << "t=" << r.t;
    EXPECT_NEAR(c.noise, r.n, 6e-6) << "t=" << r.t;
  }
  EXPECT_THROW(aug::diffusion_coefs(1000), std::invalid_argument);
  EXPECT_THROW(aug::diffusion_coefs(-1), std::invalid_argument);
}

TEST(SevaDiffusion, MeanAndVarianceOfXtGivenX0) {
  const int64_t n = 3 * 224 * 224;
  auto x0 = torch::full({3, 224, 224}, 0.7f);
  x0.select(0, 1).fill_(-1.2f);  // a second level, to check the mean scales each value
  for (int t : {0, 100, 300, 500, 800, 999}) {
    util::Rng rng(util::hash_key(1, "diffusion", std::to_string(t)));
    auto xt = aug::add_diffusion_noise(x0, t, rng);
    auto c = aug::diffusion_coefs(t);
    for (int ch : {0, 1}) {
      auto v = xt.select(0, ch);
      const double x = ch == 0 ? 0.7 : -1.2;
      const double m = v.mean().item<double>(), var = v.var().item<double>();
      const double sd = c.noise, k = static_cast<double>(n / 3);
      EXPECT_NEAR(m, c.signal * x, 5 * sd / std::sqrt(k) + 1e-6) << "t=" << t;
      EXPECT_NEAR(var, sd * sd, 5 * sd * sd * std::sqrt(2.0 / k) + 1e-9) << "t=" << t;
    }
  }
}

TEST(SevaDiffusion, NoiseIsStandardNormalAndSeeded) {
  util::Rng a(42), b(42);
  auto x = torch::zeros({1000});
  EXPECT_TRUE(torch::equal(aug::add_diffusion_noise(x, 500, a), aug::add_diffusion_noise(x, 500, b)));
  util::Rng c(42), d(43);
  EXPECT_FALSE(torch::equal(aug::add_diffusion_noise(x, 500, c), aug::add_diffusion_noise(x, 500, d)));
}
