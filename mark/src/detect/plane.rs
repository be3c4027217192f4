//! Grey planes and area sampling: the one resampler the detector uses at every scale.
//!
//! A box average over any real-sized rectangle, read from a summed-area table, is a low-pass
//! filter matched to the footprint: sampling a large screenshot onto the reference's grid
//! averages what each reference pixel became, and a box of one pixel is exactly bilinear
//! interpolation. So one function aligns, warps and reads at every scale without aliasing.

/// A grey (luma) image in row-major `f32`, pixel centres at integer coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    pub width: u32,
    pub height: u32,
    pub data: Vec<f32>,
}

impl Plane {
    pub fn new(width: u32, height: u32, data: Vec<f32>) -> Plane {
        assert_eq!(data.len(), width as usize * height as usize, "plane size");
        Plane { width, height, data }
    }

    /// Rec. 601 luma of interleaved RGB8 (the weights `embed::luma` marks with).
    pub fn from_rgb(rgb: &[u8], width: u32, height: u32) -> Plane {
        Plane::new(width, height, crate::embed::luma(rgb))
    }

    pub fn from_image(image: &image::DynamicImage) -> Plane {
        let rgb = image.to_rgb8();
        Plane::from_rgb(rgb.as_raw(), rgb.width(), rgb.height())
    }

    #[inline]
    pub fn at(&self, x: u32, y: u32) -> f32 {
        self.data[(y * self.width + x) as usize]
    }

    /// The plane averaged over `factor`×`factor` blocks (a partial block at the edges averages
    /// what it has).
    pub fn box_down(&self, factor: u32) -> Plane {
        if factor <= 1 {
            return self.clone();
        }
        let (w, h) = (self.width.div_ceil(factor), self.height.div_ceil(factor));
        let mut data = Vec::with_capacity((w * h) as usize);
        for by in 0..h {
            for bx in 0..w {
                let (mut s, mut n) = (0f32, 0f32);
                for y in by * factor..((by + 1) * factor).min(self.height) {
                    for x in bx * factor..((bx + 1) * factor).min(self.width) {
                        s += self.at(x, y);
                        n += 1.0;
                    }
                }
                data.push(s / n);
            }
        }
        Plane::new(w, h, data)
    }
}

/// A plane's summed-area table, for box averages of any real size and position.
#[derive(Debug, Clone)]
pub struct Integral {
    width: u32,
    height: u32,
    /// `(width + 1) × (height + 1)` corner sums; f64, since a 25-megapixel sum of grey levels
    /// exceeds f32's exact range.
    sat: Vec<f64>,
}

impl Integral {
    pub fn new(plane: &Plane) -> Integral {
        let (w, h) = (plane.width as usize, plane.height as usize);
        let mut sat = vec![0f64; (w + 1) * (h + 1)];
        for y in 0..h {
            let mut row = 0f64;
            for x in 0..w {
                row += f64::from(plane.data[y * w + x]);
                sat[(y + 1) * (w + 1) + x + 1] = sat[y * (w + 1) + x + 1] + row;
            }
        }
        Integral { width: plane.width, height: plane.height, sat }
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// The integral from the origin to edge coordinates (`x`, `y`) (pixel `i` spans `[i, i+1]`),
    /// bilinear between corners: exact for the piecewise-constant image.
    #[inline]
    fn corner(&self, x: f64, y: f64) -> f64 {
        let (w, h) = (self.width as usize, self.height as usize);
        let x = x.clamp(0.0, w as f64);
        let y = y.clamp(0.0, h as f64);
        let (i, j) = ((x as usize).min(w.saturating_sub(1)), (y as usize).min(h.saturating_sub(1)));
        let (fx, fy) = (x - i as f64, y - j as f64);
        let stride = w + 1;
        let (a, b) = (self.sat[j * stride + i], self.sat[j * stride + i + 1]);
        let (c, d) = (self.sat[(j + 1) * stride + i], self.sat[(j + 1) * stride + i + 1]);
        let top = a + (b - a) * fx;
        let bottom = c + (d - c) * fx;
        top + (bottom - top) * fy
    }

    /// The mean over the box centred on pixel coordinates (`cx`, `cy`) with half-sizes `hx`,
    /// `hy` (at least half a pixel: one pixel's box is bilinear interpolation), or `None` when
    /// the box leaves the image.
    #[inline]
    pub fn mean(&self, cx: f64, cy: f64, hx: f64, hy: f64) -> Option<f32> {
        let (hx, hy) = (hx.max(0.5), hy.max(0.5));
        let (x0, x1) = (cx + 0.5 - hx, cx + 0.5 + hx);
        let (y0, y1) = (cy + 0.5 - hy, cy + 0.5 + hy);
        const SLACK: f64 = 1e-6;
        if x0 < -SLACK || y0 < -SLACK || x1 > f64::from(self.width) + SLACK || y1 > f64::from(self.height) + SLACK {
            return None;
        }
        let sum = self.corner(x1, y1) - self.corner(x0, y1) - self.corner(x1, y0) + self.corner(x0, y0);
        Some((sum / ((x1 - x0) * (y1 - y0))) as f32)
    }
}

/// Where a leak's picture is inside it: the rectangle left once uniform borders (a
/// screenshot's surround, letterboxing) are trimmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// Trims rows and columns at the edges that are one flat colour (the surround's); keeps the
/// whole plane when trimming would leave less than a tenth of it.
pub fn content(plane: &Plane) -> Rect {
    let (w, h) = (plane.width, plane.height);
    let whole = Rect { x: 0, y: 0, width: w, height: h };
    if w < 8 || h < 8 {
        return whole;
    }
    let mut edge: Vec<f32> = (0..w).flat_map(|x| [plane.at(x, 0), plane.at(x, h - 1)]).chain((0..h).flat_map(|y| [plane.at(0, y), plane.at(w - 1, y)])).collect();
    edge.sort_by(f32::total_cmp);
    let surround = edge[edge.len() / 2];
    let flat = |values: &mut dyn Iterator<Item = f32>| {
        let (mut n, mut s, mut s2) = (0f32, 0f32, 0f32);
        for v in values {
            n += 1.0;
            s += v;
            s2 += v * v;
        }
        let mean = s / n;
        (s2 / n - mean * mean).max(0.0).sqrt() < 3.0 && (mean - surround).abs() < 6.0
    };
    let row_flat = |y: u32| flat(&mut (0..w).map(|x| plane.at(x, y)));
    let col_flat = |x: u32, y0: u32, y1: u32| flat(&mut (y0..y1).map(|y| plane.at(x, y)));
    let top = (0..h).find(|&y| !row_flat(y)).unwrap_or(h);
    if top == h {
        return whole;
    }
    let bottom = (top..h).rev().find(|&y| !row_flat(y)).map_or(h, |y| y + 1);
    let left = (0..w).find(|&x| !col_flat(x, top, bottom)).unwrap_or(0);
    let right = (left..w).rev().find(|&x| !col_flat(x, top, bottom)).map_or(w, |x| x + 1);
    let r = Rect { x: left, y: top, width: right - left, height: bottom - top };
    if u64::from(r.width) * u64::from(r.height) * 10 < u64::from(w) * u64::from(h) { whole } else { r }
}
