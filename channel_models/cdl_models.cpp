#include <channel_models/cdl_models.h>

#include <amimo/core/error.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <complex>
#include <map>
#include <numbers>
#include <numeric>
#include <string_view>
#include <vector>

namespace amimo::channel_models {
namespace {

// TR 38.901 V16.1.0 Table 7.7.1-1 (CDL-A), in table order. Checked against Sionna's
// CDL-A.json and QuaDRiGa's gen_cdl_model.m ('NR-CDL-A'; QuaDRiGa prepends a zero-power
// virtual LOS entry, ignored in the comparison).
constexpr std::array<double, 23> a_delay{0.0000, 0.3819, 0.4025, 0.5868, 0.4610, 0.5375, 0.6708, 0.5750,
                                         0.7618, 1.5375, 1.8978, 2.2242, 2.1718, 2.4942, 2.5119, 3.0582,
                                         4.0810, 4.4579, 4.5695, 4.7966, 5.0066, 5.3043, 9.6586};
constexpr std::array<double, 23> a_power{-13.4, 0.0,   -2.2,  -4.0,  -6.0,  -8.2,  -9.9,  -10.5,
                                         -7.5,  -15.9, -6.6,  -16.7, -12.4, -15.2, -10.8, -11.3,
                                         -12.7, -16.2, -18.3, -18.9, -16.6, -19.9, -29.7};
constexpr std::array<double, 23> a_aod{-178.1, -4.2,   -4.2,   -4.2,   90.2,   90.2,   90.2,  121.5,
                                       -81.7,  158.4,  -83.0,  134.8,  -153.0, -172.0, -129.9, -136.0,
                                       165.4,  148.4,  132.7,  -118.6, -154.1, 126.5,  -56.2};
constexpr std::array<double, 23> a_aoa{51.3,  -152.7, -152.7, -152.7, 76.6,  76.6,  76.6,   -1.8,
                                       -41.9, 94.2,   51.9,   -115.9, 26.6,  76.6,  -7.0,   -23.0,
                                       -47.2, 110.4,  144.5,  155.3,  102.0, -151.8, 55.2};
constexpr std::array<double, 23> a_zod{50.2,  93.2,  93.2,  93.2, 122.0, 122.0, 122.0, 150.2,
                                       55.2,  26.4,  126.4, 171.6, 151.4, 157.2, 47.2, 40.4,
                                       43.3,  161.8, 10.8,  16.7,  171.7, 22.7,  144.9};
constexpr std::array<double, 23> a_zoa{125.4, 91.3,  91.3,  91.3,  94.0,  94.0,  94.0,  47.1,
                                       56.0,  30.1,  58.8,  26.0,  49.2,  143.1, 117.4, 122.7,
                                       123.2, 32.6,  27.2,  15.2,  146.0, 150.7, 156.1};

// Table 7.7.1-2 (CDL-B).
constexpr std::array<double, 23> b_delay{0.0000, 0.1072, 0.2155, 0.2095, 0.2870, 0.2986, 0.3752, 0.5055,
                                         0.3681, 0.3697, 0.5700, 0.5283, 1.1021, 1.2756, 1.5474, 1.7842,
                                         2.0169, 2.8294, 3.0219, 3.6187, 4.1067, 4.2790, 4.7834};
constexpr std::array<double, 23> b_power{0.0,  -2.2, -4.0, -3.2, -9.8, -1.2,  -3.4, -5.2,  -7.6,  -3.0, -8.9, -9.0,
                                         -4.8, -5.7, -7.5, -1.9, -7.6, -12.2, -9.8, -11.4, -14.9, -9.2, -11.3};
constexpr std::array<double, 23> b_aod{9.3,   9.3,   9.3,   -34.1, -65.4, -11.4, -11.4, -11.4,
                                       -67.2, 52.5,  -72.0, 74.3,  -52.2, -50.5, 61.4,  30.6,
                                       -72.5, -90.6, -77.6, -82.6, -103.6, 75.6, -77.6};
constexpr std::array<double, 23> b_aoa{-173.3, -173.3, -173.3, 125.5, -88.0, 155.1, 155.1, 155.1,
                                       -89.8,  132.1,  -83.6,  95.3,  103.7, -87.8, -92.5, -139.1,
                                       -90.6,  58.6,   -79.0,  65.8,  52.7,  88.7,  -60.4};
constexpr std::array<double, 23> b_zod{105.8, 105.8, 105.8, 115.3, 119.3, 103.2, 103.2, 103.2,
                                       118.2, 102.0, 100.4, 98.3,  103.4, 102.5, 101.4, 103.0,
                                       100.0, 115.2, 100.5, 119.6, 118.7, 117.8, 115.7};
constexpr std::array<double, 23> b_zoa{78.9, 78.9, 78.9, 63.3, 59.9, 67.5, 67.5, 67.5, 82.6, 66.3, 61.6, 58.0,
                                       78.2, 82.0, 62.4, 78.0, 60.9, 82.9, 60.8, 57.3, 59.9, 60.1, 62.3};

// Table 7.7.1-3 (CDL-C).
constexpr std::array<double, 24> c_delay{0.0000, 0.2099, 0.2219, 0.2329, 0.2176, 0.6366, 0.6448, 0.6560,
                                         0.6584, 0.7935, 0.8213, 0.9336, 1.2285, 1.3083, 2.1704, 2.7105,
                                         4.2589, 4.6003, 5.4902, 5.6077, 6.3065, 6.6374, 7.0427, 8.6523};
constexpr std::array<double, 24> c_power{-4.4,  -1.2,  -3.5,  -5.2,  -2.5,  0.0,   -2.2,  -3.9,
                                         -7.4,  -7.1,  -10.7, -11.1, -5.1,  -6.8,  -8.7,  -13.2,
                                         -13.9, -13.9, -15.8, -17.1, -16.0, -15.7, -21.6, -22.8};
constexpr std::array<double, 24> c_aod{-46.6, -22.8, -22.8, -22.8, -40.7,  0.3,  0.3,   0.3,
                                       73.1,  -64.5, 80.2,  -97.1, -55.3,  -64.3, -78.5, 102.7,
                                       99.2,  88.8,  -101.9, 92.2, 93.3,   106.6, 119.5, -123.8};
constexpr std::array<double, 24> c_aoa{-101.0, 120.0, 120.0, 120.0, -127.5, 170.4, 170.4, 170.4,
                                       55.4,   66.5,  -48.1, 46.9,  68.1,   -68.7, 81.5,  30.7,
                                       -16.4,  3.8,   -13.7, 9.7,   5.6,    0.7,   -21.9, 33.6};
constexpr std::array<double, 24> c_zod{97.2,  98.6,  98.6,  98.6,  100.6, 99.2,  99.2,  99.2,
                                       105.2, 95.3,  106.1, 93.5,  103.7, 104.2, 93.0,  104.2,
                                       94.9,  93.1,  92.2,  106.7, 93.0,  92.9,  105.2, 107.8};
constexpr std::array<double, 24> c_zoa{87.6, 72.1, 72.1, 72.1, 70.1, 75.3,  75.3, 75.3, 67.4, 63.8, 71.4, 60.5,
                                       90.6, 60.1, 61.0, 100.7, 62.3, 66.7, 52.9, 61.8, 51.9, 61.7, 58.0, 57.0};

// Table 7.7.1-4 (CDL-D): row 0 the LOS path (K1 = 13.3 dB against row 1).
constexpr std::array<double, 14> d_delay{0.0,   0.0,   0.035, 0.612, 1.363, 1.405, 1.804,
                                         2.596, 1.775, 4.042, 7.937, 9.424, 9.708, 12.525};
constexpr std::array<double, 14> d_power{-0.2,  -13.5, -18.8, -21.0, -22.8, -17.9, -20.1,
                                         -21.9, -22.9, -27.8, -23.6, -24.8, -30.0, -27.7};
constexpr std::array<double, 14> d_aod{0.0, 0.0, 89.2, 89.2, 89.2, 13.0, 13.0, 13.0, 34.6, -64.5, -32.9, 52.6, -132.1, 77.2};
constexpr std::array<double, 14> d_aoa{-180.0, -180.0, 89.2,  89.2,   89.2, 163.0, 163.0,
                                       163.0,  -137.0, 74.5, 127.7, -119.6, -9.1, -83.8};
constexpr std::array<double, 14> d_zod{98.5, 98.5, 85.5, 85.5, 85.5, 97.5, 97.5, 97.5, 98.5, 88.4, 91.3, 103.8, 80.3, 86.5};
constexpr std::array<double, 14> d_zoa{81.5, 81.5, 86.9, 86.9, 86.9, 79.4, 79.4, 79.4, 78.2, 73.6, 78.3, 87.0, 70.6, 72.9};

// Table 7.7.1-5 (CDL-E): row 0 the LOS path (K1 = 22 dB). The last delay is 20.6419 here
// (both sources), against 20.6519 in TDL-E's Table 7.7.2-5.
constexpr std::array<double, 15> e_delay{0.0,    0.0,    0.5133, 0.5440, 0.5630, 0.5440, 0.7112, 1.9092,
                                         1.9293, 1.9589, 2.6426, 3.7136, 5.4524, 12.0034, 20.6419};
constexpr std::array<double, 15> e_power{-0.03, -22.03, -15.8, -18.1, -19.8, -22.9, -22.4, -18.6,
                                         -20.8, -22.6,  -22.3, -25.6, -20.2, -29.8, -29.2};
constexpr std::array<double, 15> e_aod{0.0, 0.0, 57.5, 57.5, 57.5, -20.1, 16.2, 9.3, 9.3, 9.3, 19.0, 32.7, 0.5, 55.9, 57.6};
constexpr std::array<double, 15> e_aoa{-180.0, -180.0, 18.2,   18.2,   18.2,  101.8, 112.9, -155.5,
                                       -155.5, -155.5, -143.3, -94.7, 147.0, -36.2, -26.0};
constexpr std::array<double, 15> e_zod{99.6, 99.6, 104.2, 104.2, 104.2, 99.4, 100.8, 98.8,
                                       98.8, 98.8, 100.8, 96.4,  98.9,  95.6, 104.6};
constexpr std::array<double, 15> e_zoa{80.4, 80.4, 80.4, 80.4, 80.4, 80.8, 86.3, 82.7,
                                       82.7, 82.7, 82.9, 88.0, 81.0, 88.6, 78.3};

// TR 38.901 Table 7.5-3: ray offset angles within a cluster, given for rms angle spread
// normalised to 1 (degrees).
constexpr std::array<double, 20> ray_offsets{0.0447,  -0.0447, 0.1413,  -0.1413, 0.2492,  -0.2492, 0.3715,
                                             -0.3715, 0.5129,  -0.5129, 0.6797,  -0.6797, 0.8844,  -0.8844,
                                             1.1481,  -1.1481, 1.5195,  -1.5195, 2.1551,  -2.1551};
constexpr int rays_per_cluster = 20;

constexpr double deg = std::numbers::pi / 180.0;
// How far a scaled cluster spread may miss the desired one (degrees).
constexpr double max_spread_error_deg = 1.0;

double wrap180(double x) { return x - 360.0 * std::floor((x + 180.0) / 360.0); }

// §7.7.5.1: every cluster angle (the LOS path's included, which also takes part in the
// spread) is scaled about the power-weighted mean.
void scale_about_mean(std::vector<double>& angles, std::span<const double> powers, double desired) {
  double mean = 0.0;
  const double model = power_weighted_spread_deg(powers, angles, &mean);
  if (model <= 0.0) return;
  const double ratio = desired / model;
  for (double& a : angles) a = mean + ratio * wrap180(a - mean);
}

// The largest desired spread (on a 0.5° grid) below which every request scales to within
// max_spread_error_deg of itself: what a table can be asked for. Only on the error path.
double largest_met_spread(std::span<const double> table_angles, std::span<const double> powers) {
  double met = 0.0;
  for (double want = 0.5; want <= 180.0; want += 0.5) {
    std::vector<double> a(table_angles.begin(), table_angles.end());
    scale_about_mean(a, powers, want);
    if (std::abs(power_weighted_spread_deg(powers, a) - want) > max_spread_error_deg) break;
    met = want;
  }
  return met;
}

// Scales to the desired spread (0: the table's) and checks the spread it obtained: the
// wrapped angles make the scaled spread fall short of large requests and even turn back
// (CDL-A: 180° asked, 77.5° obtained), so a miss by more than max_spread_error_deg is a
// config_error rather than a different channel than the one asked for.
void scale_angles(std::vector<double>& angles, std::span<const double> powers, double desired, const char* field,
                  std::string_view table_name) {
  if (desired <= 0.0) return;
  const std::vector<double> table(angles);
  scale_about_mean(angles, powers, desired);
  const double obtained = power_weighted_spread_deg(powers, angles);
  if (!(std::abs(obtained - desired) <= max_spread_error_deg)) {
    throw config_error(fmt::format(
        "selective channel: {} (desired cluster angle spread) {:g} deg is out of reach: the §7.7.5.1 scaling of {} "
        "gives {:.1f} deg (the scaled angles wrap around the circle); it meets every request up to about {:g} deg "
        "within {:g} deg",
        field, desired, table_name, obtained, largest_met_spread(table, powers), max_spread_error_deg));
  }
}

}  // namespace

bool is_cdl_model(std::string_view model) noexcept {
  return model.size() == 5 && model.substr(0, 4) == "cdl-" && model[4] >= 'a' && model[4] <= 'e';
}

std::span<const double> cdl_ray_offsets() noexcept { return ray_offsets; }

cdl_table cdl_profile(std::string_view model) {
  if (model == "cdl-a") return {a_delay, a_power, a_aod, a_aoa, a_zod, a_zoa, 5.0, 11.0, 3.0, 3.0, 10.0, false};
  if (model == "cdl-b") return {b_delay, b_power, b_aod, b_aoa, b_zod, b_zoa, 10.0, 22.0, 3.0, 7.0, 8.0, false};
  if (model == "cdl-c") return {c_delay, c_power, c_aod, c_aoa, c_zod, c_zoa, 2.0, 15.0, 3.0, 7.0, 7.0, false};
  if (model == "cdl-d") return {d_delay, d_power, d_aod, d_aoa, d_zod, d_zoa, 5.0, 8.0, 3.0, 3.0, 11.0, true};
  if (model == "cdl-e") return {e_delay, e_power, e_aod, e_aoa, e_zod, e_zoa, 5.0, 11.0, 3.0, 7.0, 8.0, true};
  throw config_error("no CDL table named '" + std::string(model) + "' (expected cdl-a, cdl-b, cdl-c, cdl-d or cdl-e)");
}

double power_weighted_spread_deg(std::span<const double> powers, std::span<const double> angles_deg, double* mean) {
  std::complex<double> resultant{0.0, 0.0};
  double total = 0.0;
  for (std::size_t n = 0; n < powers.size(); ++n) {
    resultant += powers[n] * std::polar(1.0, angles_deg[n] * deg);
    total += powers[n];
  }
  const double mu = std::arg(resultant) / deg;
  double m2 = 0.0;
  double m1 = 0.0;
  for (std::size_t n = 0; n < powers.size(); ++n) {
    const double d = wrap180(angles_deg[n] - mu);
    m1 += powers[n] * d;
    m2 += powers[n] * d * d;
  }
  m1 /= total;
  m2 /= total;
  if (mean != nullptr) *mean = mu;
  return std::sqrt(std::max(0.0, m2 - m1 * m1));
}

namespace {

cdl_clusters scale_table(const cdl_table& t, const cdl_geometry& g, std::string_view name) {
  cdl_clusters c;
  const std::size_t n = t.normalised_delays.size();
  c.normalised_delays.assign(t.normalised_delays.begin(), t.normalised_delays.end());
  c.aod_deg.assign(t.aod_deg.begin(), t.aod_deg.end());
  c.aoa_deg.assign(t.aoa_deg.begin(), t.aoa_deg.end());
  c.zod_deg.assign(t.zod_deg.begin(), t.zod_deg.end());
  c.zoa_deg.assign(t.zoa_deg.begin(), t.zoa_deg.end());
  double total = 0.0;
  for (std::size_t k = 0; k < n; ++k) {
    c.powers.push_back(std::pow(10.0, t.powers_db[k] / 10.0));
    total += c.powers.back();
  }
  for (double& p : c.powers) p /= total;
  c.c_asd_deg = t.c_asd_deg;
  c.c_asa_deg = t.c_asa_deg;
  c.c_zsd_deg = t.c_zsd_deg;
  c.c_zsa_deg = t.c_zsa_deg;
  c.los = t.los;
  scale_angles(c.aod_deg, c.powers, g.asd_deg, "asd_deg", name);
  scale_angles(c.aoa_deg, c.powers, g.asa_deg, "asa_deg", name);
  scale_angles(c.zod_deg, c.powers, g.zsd_deg, "zsd_deg", name);
  scale_angles(c.zoa_deg, c.powers, g.zsa_deg, "zsa_deg", name);
  return c;
}

}  // namespace

cdl_clusters scaled_cdl_clusters(const cdl_table& t, const cdl_geometry& g) {
  return scale_table(t, g, "the table");
}

cdl_clusters scaled_cdl_clusters(const selective_channel_config& config) {
  return scale_table(cdl_profile(config.model), config.cdl, config.model + "'s table");
}

// ---------------------------------------------------------------------------------------
// The model. Per user k, cluster n: the steering matrix A_{k,n} (antennas × rays) is fixed
// for a realisation; the ray gains g_{k,n,m}(t) = sqrt(P_n/M) e^{jΦ} e^{j2π f_m t} rotate
// per step; tap l's column k is Σ_{n in tap l} A_{k,n} g_{k,n}.
struct cdl_channel_model::state {
  std::string name;
  std::string description;
  int antennas = 0;
  int users = 0;
  int rows = 1;
  int columns = 1;
  double spacing = 0.5;
  double user_spread = 0.0;
  double direction = 0.0;
  double doppler = 0.0;
  double step_seconds = 0.0;
  int steps = 1;
  cdl_clusters clusters;
  std::vector<int> tap_of_cluster;   // cluster → tap index
  std::vector<int> ray_start;        // cluster → first ray column (cumulative)
  std::vector<int> ray_count;        // cluster → rays (1 for LOS, else 20)
  int total_rays = 0;
  std::vector<double> delays;        // per tap (samples)
  // Per user: ray angles (current realisation), steering (antennas × total_rays), gains.
  std::vector<cdl_ray> rays;         // users × total_rays
  std::vector<cmat> steering;        // per user: antennas × total_rays
  cmat gains;                        // total_rays × users
  cmat rotation;                     // total_rays × users: exp(j 2π f_m Δt)
  std::vector<cmat> taps;            // per tap: antennas × users
  std::array<int, rays_per_cluster> perm_a{}, perm_b{}, perm_c{};
  bool drawn = false;
  int step = 0;
  cmat empty;

  void evaluate() noexcept {
    for (auto& t : taps) t.setZero();
    for (int k = 0; k < users; ++k) {
      for (std::size_t n = 0; n < tap_of_cluster.size(); ++n) {
        const int first = ray_start[n];
        const int count = ray_count[n];
        taps[static_cast<std::size_t>(tap_of_cluster[n])].col(k).noalias() +=
            steering[static_cast<std::size_t>(k)].middleCols(first, count) * gains.col(k).segment(first, count);
      }
    }
  }
};

cdl_channel_model::cdl_channel_model(const selective_channel_config& c, const cdl_clusters& clusters)
    : s_(std::make_unique<state>()) {
  state& s = *s_;
  s.name = c.model;
  s.description = channel_models::describe(c);
  s.antennas = c.antennas;
  s.users = c.users;
  s.rows = c.cdl.array_rows;
  s.columns = c.antennas / c.cdl.array_rows;
  s.spacing = c.cdl.element_spacing;
  s.user_spread = c.cdl.user_spread_deg;
  s.direction = c.cdl.ue_direction_deg;
  s.doppler = c.doppler_hz;
  s.step_seconds = c.frame_seconds / c.steps_per_frame;
  s.steps = c.doppler_hz > 0.0 ? c.steps_per_frame : 1;
  s.clusters = clusters;
  const bool sample_spaced = c.delay_model == "sample-spaced";
  std::map<double, int> tap_index;
  std::vector<double> cluster_delay;
  for (const double d : clusters.normalised_delays) {
    double samples = d * c.delay_spread_s * c.sample_rate;
    if (sample_spaced) samples = static_cast<double>(std::lround(samples));
    cluster_delay.push_back(samples);
    tap_index[samples] = 0;
  }
  int next = 0;
  for (auto& [delay, index] : tap_index) {
    index = next++;
    s.delays.push_back(delay);
  }
  for (std::size_t n = 0; n < cluster_delay.size(); ++n) {
    s.tap_of_cluster.push_back(tap_index[cluster_delay[n]]);
    s.ray_start.push_back(s.total_rays);
    const int count = (clusters.los && n == 0) ? 1 : rays_per_cluster;
    s.ray_count.push_back(count);
    s.total_rays += count;
  }
  s.rays.resize(static_cast<std::size_t>(s.users) * static_cast<std::size_t>(s.total_rays));
  s.steering.assign(static_cast<std::size_t>(s.users), cmat::Zero(s.antennas, s.total_rays));
  s.gains.setZero(s.total_rays, s.users);
  s.rotation.setOnes(s.total_rays, s.users);
  s.taps.assign(s.delays.size(), cmat::Zero(s.antennas, s.users));
}

cdl_channel_model::~cdl_channel_model() = default;

std::string_view cdl_channel_model::name() const noexcept { return s_->name; }
std::string cdl_channel_model::describe() const { return s_->description; }
int cdl_channel_model::antennas() const noexcept { return s_->antennas; }
int cdl_channel_model::users() const noexcept { return s_->users; }
std::span<const double> cdl_channel_model::tap_delays() const noexcept { return s_->delays; }
cmat_cref cdl_channel_model::tap_gain(int l) const noexcept {
  if (l < 0 || static_cast<std::size_t>(l) >= s_->taps.size()) return s_->empty;
  return s_->taps[static_cast<std::size_t>(l)];
}
int cdl_channel_model::steps_per_frame() const noexcept { return s_->steps; }

void cdl_channel_model::redraw(rng& gen) noexcept {
  state& s = *s_;
  const double two_pi = 2.0 * std::numbers::pi;
  const auto shuffle = [&gen](std::array<int, rays_per_cluster>& p) {
    std::iota(p.begin(), p.end(), 0);
    for (int i = rays_per_cluster - 1; i > 0; --i) {
      const auto j = static_cast<int>(gen.below(static_cast<std::uint64_t>(i) + 1U));
      std::swap(p[static_cast<std::size_t>(i)], p[static_cast<std::size_t>(j)]);
    }
  };
  const cdl_clusters& c = s.clusters;
  for (int k = 0; k < s.users; ++k) {
    const double rotate = s.user_spread > 0.0 ? s.user_spread * (gen.uniform() - 0.5) : 0.0;
    cmat& a = s.steering[static_cast<std::size_t>(k)];
    for (std::size_t n = 0; n < c.powers.size(); ++n) {
      const int count = s.ray_count[n];
      if (count > 1) {
        shuffle(s.perm_a);
        shuffle(s.perm_b);
        shuffle(s.perm_c);
      }
      const double amplitude = std::sqrt(c.powers[n] / count);
      for (int m = 0; m < count; ++m) {
        const int r = s.ray_start[n] + m;
        cdl_ray& ray = s.rays[static_cast<std::size_t>(k) * static_cast<std::size_t>(s.total_rays) + static_cast<std::size_t>(r)];
        ray.power = c.powers[n] / count;
        if (count == 1) {
          ray.aod_deg = c.aod_deg[n] + rotate;
          ray.zod_deg = c.zod_deg[n];
          ray.aoa_deg = c.aoa_deg[n];
          ray.zoa_deg = c.zoa_deg[n];
        } else {
          const auto mu = static_cast<std::size_t>(m);
          ray.aoa_deg = c.aoa_deg[n] + c.c_asa_deg * ray_offsets[mu];
          ray.aod_deg = c.aod_deg[n] + rotate + c.c_asd_deg * ray_offsets[static_cast<std::size_t>(s.perm_a[mu])];
          ray.zod_deg = c.zod_deg[n] + c.c_zsd_deg * ray_offsets[static_cast<std::size_t>(s.perm_b[mu])];
          ray.zoa_deg = c.zoa_deg[n] + c.c_zsa_deg * ray_offsets[static_cast<std::size_t>(s.perm_c[mu])];
        }
        const double phase = two_pi * gen.uniform();
        s.gains(r, k) = std::polar(amplitude, phase);
        const double doppler =
            s.doppler * std::sin(ray.zoa_deg * deg) * std::cos((ray.aoa_deg - s.direction) * deg);
        s.rotation(r, k) = std::polar(1.0, two_pi * doppler * s.step_seconds);
        const double horizontal = s.spacing * std::sin(ray.zod_deg * deg) * std::sin(ray.aod_deg * deg);
        const double vertical = s.spacing * std::cos(ray.zod_deg * deg);
        // Running products of the per-element phase steps (one sin/cos pair per ray instead
        // of one per element; rounding stays at ~1e-14 over hundreds of elements).
        const cf64 step_h = std::polar(1.0, two_pi * horizontal);
        const cf64 step_v = std::polar(1.0, two_pi * vertical);
        cf64 row_phase{1.0, 0.0};
        for (int row = 0; row < s.rows; ++row) {
          cf64 element = row_phase;
          for (int col = 0; col < s.columns; ++col) {
            a(row * s.columns + col, r) = element;
            element *= step_h;
          }
          row_phase *= step_v;
        }
      }
    }
  }
  s.drawn = true;
  s.step = 0;
  s.evaluate();
}

std::vector<cdl_ray> cdl_channel_model::rays(int user) const {
  const state& s = *s_;
  if (user < 0 || user >= s.users) return {};
  const auto first = s.rays.begin() + static_cast<std::ptrdiff_t>(user) * s.total_rays;
  return {first, first + s.total_rays};
}

void cdl_channel_model::sum_taps(cmat_ref h) const noexcept {
  h.setZero();
  for (const auto& t : s_->taps) h += t;
}

void cdl_channel_model::next_frame(rng& gen) {
  state& s = *s_;
  if (!s.drawn) {
    redraw(gen);
    return;
  }
  if (s.doppler == 0.0) return;
  const int remaining = s.steps - s.step;
  for (int i = 0; i < remaining; ++i) s.gains.array() *= s.rotation.array();
  s.step = 0;
  s.evaluate();
}

bool cdl_channel_model::time_invariant() const noexcept { return s_->doppler == 0.0; }

void cdl_channel_model::next_step() noexcept {
  state& s = *s_;
  if (!s.drawn || s.step + 1 >= s.steps) return;
  s.gains.array() *= s.rotation.array();
  ++s.step;
  s.evaluate();
}

namespace {

class cdl_flat_model final : public channel::flat_channel_model {
 public:
  explicit cdl_flat_model(const selective_channel_config& c)
      : model_(c, scaled_cdl_clusters(c)), name_(c.model) {}
  std::string_view name() const noexcept override { return name_; }
  int antennas() const noexcept override { return model_.antennas(); }
  int users() const noexcept override { return model_.users(); }
  void draw(cmat_ref h, rng& gen) override {
    model_.redraw(gen);
    model_.sum_taps(h);
  }

 private:
  cdl_channel_model model_;
  std::string name_;
};

}  // namespace

std::unique_ptr<channel::flat_channel_model> create_cdl_flat_model(const selective_channel_config& config) {
  (void)model_power_delay_profile(config);  // validates
  if (!is_cdl_model(config.model)) throw config_error("create_cdl_flat_model: '" + config.model + "' is not a CDL model");
  return std::make_unique<cdl_flat_model>(config);
}

}  // namespace amimo::channel_models
