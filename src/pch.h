// Precompiled header: libtorch's headers dominate compile time, so every target shares one copy.
#pragma once
#include <torch/torch.h>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>
#include <map>
#include <memory>
#include <stdexcept>
