#include "server/qr_svg.h"

#include <qrencode.h>

#include <memory>

namespace ocop::server {

Status QrSvg(const std::string& text, std::string* svg) {
  std::unique_ptr<QRcode, void (*)(QRcode*)> code(
      QRcode_encodeString8bit(text.c_str(), 0, QR_ECLEVEL_M), QRcode_free);
  if (!code) return Status::InvalidArgument("the text is too long for a QR code");
  const int n = code->width, quiet = 4, side = n + 2 * quiet;
  std::string path;
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n; ++x) {
      // Bit 0 of each byte is the module's colour (1: dark).
      if (code->data[y * n + x] & 1) {
        // Appended piece by piece: GCC 12 warns (-Wrestrict, wrongly) on
        // "M" + std::to_string(...).
        path.append("M").append(std::to_string(x + quiet)).append(" ");
        path.append(std::to_string(y + quiet)).append("h1v1h-1z");
      }
    }
  }
  *svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(side) + " " +
         std::to_string(side) + "\" shape-rendering=\"crispEdges\"><rect width=\"" +
         std::to_string(side) + "\" height=\"" + std::to_string(side) +
         "\" fill=\"#fff\"/><path fill=\"#000\" d=\"" + path + "\"/></svg>\n";
  return Status::OK();
}

}  // namespace ocop::server
