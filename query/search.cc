// search: products by id, name, producer, unit, certificate or decision
// number, diacritics and case ignored.
#include "query/queries.h"

#include <unordered_map>

#include "query/arguments.h"

namespace ocop::query {

using workflow::Date;

namespace {

// Lower-case ASCII with Vietnamese diacritics removed: "Mật ong" -> "mat ong".
std::string Fold(const std::string& s) {
  static const std::unordered_map<char32_t, char> kBase = [] {
    std::unordered_map<char32_t, char> m;
    auto add = [&](const char* letters, char base) {
      std::u32string u;
      for (const unsigned char* p = reinterpret_cast<const unsigned char*>(letters); *p;) {
        char32_t c;
        if (*p < 0x80)
          c = *p++;
        else if ((*p & 0xE0) == 0xC0) {
          c = (*p & 0x1F) << 6 | (p[1] & 0x3F);
          p += 2;
        } else {
          c = (*p & 0x0F) << 12 | (p[1] & 0x3F) << 6 | (p[2] & 0x3F);
          p += 3;
        }
        m[c] = base;
      }
    };
    add("àáảãạăằắẳẵặâầấẩẫậÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬ", 'a');
    add("đĐ", 'd');
    add("èéẻẽẹêềếểễệÈÉẺẼẸÊỀẾỂỄỆ", 'e');
    add("ìíỉĩịÌÍỈĨỊ", 'i');
    add("òóỏõọôồốổỗộơờớởỡợÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢ", 'o');
    add("ùúủũụưừứửữựÙÚỦŨỤƯỪỨỬỮỰ", 'u');
    add("ỳýỷỹỵỲÝỶỸỴ", 'y');
    return m;
  }();
  std::string out;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char* end = p + s.size();
  while (p < end) {
    char32_t c;
    int n = 1;
    if (*p < 0x80)
      c = *p;
    else if ((*p & 0xE0) == 0xC0 && p + 1 < end) {
      c = (*p & 0x1F) << 6 | (p[1] & 0x3F);
      n = 2;
    } else if ((*p & 0xF0) == 0xE0 && p + 2 < end) {
      c = (*p & 0x0F) << 12 | (p[1] & 0x3F) << 6 | (p[2] & 0x3F);
      n = 3;
    } else {
      c = 0xFFFD;
      n = (*p & 0xF8) == 0xF0 ? 4 : 1;
    }
    p += n;
    if (c < 0x80)
      out.push_back(static_cast<char>(std::tolower(static_cast<int>(c))));
    else if (auto it = kBase.find(c); it != kBase.end())
      out.push_back(it->second);
    else
      out.push_back('?');
  }
  return out;
}

}  // namespace

Status QuerySearch(const Reader& r, const std::string& text, size_t limit, Json* out) {
  std::string needle = Fold(text);
  std::unique_ptr<projections::UnitTree> tree;
  Status s = Tree(r, "", &tree);
  if (!s.ok()) return s;
  Json rows = Json::array();
  size_t total = 0;
  Status inner;
  s = r.view->ForEachProduct([&](const workflow::ProductState& p) {
    workflow::SubjectState subject;
    // A product's producer may be unknown (never registered): searched
    // without a name. Any other failure ends the search.
    Status found = r.view->Producer(p.subject, &subject);
    if (!found.ok() && !found.IsNotFound()) {
      inner = found;
      return false;
    }
    std::string unit_name = tree->Name(p.unit);
    std::string hay =
        Fold(p.id + " " + p.name + " " + subject.name + " " + p.unit + " " + unit_name);
    // Else a certificate's number or its decision's ("GCN-...", "115/QĐ").
    std::string matched;
    if (!needle.empty() && hay.find(needle) == std::string::npos) {
      for (const auto& c : p.certificates) {
        if (Fold(c.no).find(needle) != std::string::npos) {
          matched = "GCN " + c.no;
        } else if (Fold(c.decision.no).find(needle) != std::string::npos) {
          matched = "QĐ " + c.decision.no + " ngày " + workflow::FormatDate(c.decision.date);
        }
        if (!matched.empty()) break;
      }
      if (matched.empty()) return true;
    }
    // Every match is counted; the first `limit` are listed.
    if (++total > limit) return true;
    const auto* active = p.ActiveOn(r.today);
    rows.push_back(Json{{"product", p.id},
                        {"name", p.name},
                        {"subject", p.subject},
                        {"subject_name", subject.name},
                        {"unit", p.unit},
                        {"unit_name", unit_name},
                        {"stage", std::string(workflow::StageName(p.StageOn(r.today)))},
                        {"stars", active ? Json(active->stars) : Json(nullptr)}});
    if (!matched.empty()) rows.back()["matched"] = matched;
    return true;
  });
  if (s.ok()) s = inner;
  if (!s.ok()) return s;
  *out = Json{{"query", text}, {"total", total}, {"limit", limit}, {"rows", rows}};
  return Status::OK();
}

}  // namespace ocop::query
