// The clock is part of the public API (tests and embedders pass a ManualClock);
// internal code includes it from here.
#pragma once

#include "tidal/clock.h"
