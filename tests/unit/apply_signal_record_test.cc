#include <gtest/gtest.h>

#include "apply/signal_record.h"

namespace tidal::signals {
namespace {

TEST(RecordCodec, SignalRecordRoundTripsAndRejectsEveryTruncation) {
  apply::SignalRecord r;
  r.signal = 300;
  r.item = "item_ü";
  r.user = "";
  r.time_us = -1'700'000'000'000'000;
  r.value = 12.375;
  std::string bytes;
  apply::encode_signal_record(r, &bytes);
  apply::SignalRecord d;
  ASSERT_TRUE(apply::decode_signal_record(bytes, &d));
  EXPECT_EQ(d.signal, 300);
  EXPECT_EQ(d.item, "item_ü");
  EXPECT_EQ(d.user, "");
  EXPECT_EQ(d.time_us, r.time_us);
  EXPECT_EQ(d.value, 12.375);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(apply::decode_signal_record(bytes.substr(0, n), &d)) << n;
  }
  EXPECT_FALSE(apply::decode_signal_record(bytes + "x", &d));
  std::string bad_format = bytes;
  bad_format[0] = 2;
  EXPECT_FALSE(apply::decode_signal_record(bad_format, &d));
}

}  // namespace
}  // namespace tidal::signals
