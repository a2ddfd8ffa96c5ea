// C++ example: member functions and overloads are named by their mangled names in the list.
// Freestanding on purpose (no C++ library): it builds with clang-cl on any machine.

namespace geo {
int shapes_made;                       // mutable global

struct Shape {
    virtual ~Shape() {}
    virtual int area() const = 0;
};

struct Rect : Shape {
    int w, h;
    Rect(int w, int h) : w(w), h(h) { ++shapes_made; }
    int area() const override { return w * h; }
};

int scale(int v) { return v * shapes_made; }          // ?scale@geo@@YAHH@Z
long scale(long v) { return v * (long)shapes_made; }  // ?scale@geo@@YAJJ@Z
} // namespace geo

int measure(int w, int h) // ?measure@@YAHHH@Z
{
    geo::Rect r(w, h);
    return geo::scale(r.area());
}
