//! Small dense symmetric linear algebra (p up to a few hundred): Cholesky factorisation with
//! rank-deficiency detection, solves and inverses, for Newton steps and covariance matrices.

/// A square matrix stored row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct SquareMatrix {
    n: usize,
    data: Vec<f64>,
}

impl SquareMatrix {
    /// The n x n zero matrix.
    pub fn zeros(n: usize) -> Self {
        Self { n, data: vec![0.0; n * n] }
    }
    /// Order of the matrix.
    pub fn n(&self) -> usize {
        self.n
    }
    /// Element (i, j).
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.n + j]
    }
    /// Sets element (i, j).
    #[inline]
    pub fn set(&mut self, i: usize, j: usize, v: f64) {
        self.data[i * self.n + j] = v;
    }
    /// Adds to element (i, j).
    #[inline]
    pub fn add(&mut self, i: usize, j: usize, v: f64) {
        self.data[i * self.n + j] += v;
    }
    /// Copies the upper triangle onto the lower one.
    pub fn symmetrize_from_upper(&mut self) {
        for i in 0..self.n {
            for j in 0..i {
                self.data[i * self.n + j] = self.data[j * self.n + i];
            }
        }
    }
    /// Diagonal elements.
    pub fn diagonal(&self) -> Vec<f64> {
        (0..self.n).map(|i| self.get(i, i)).collect()
    }
    /// Quadratic form xᵀ A x.
    pub fn quadratic_form(&self, x: &[f64]) -> f64 {
        let mut s = 0.0;
        for i in 0..self.n {
            let row = &self.data[i * self.n..(i + 1) * self.n];
            s += x[i] * row.iter().zip(x).map(|(a, b)| a * b).sum::<f64>();
        }
        s
    }
}

/// The lower-triangular Cholesky factor L of a symmetric positive definite A = L Lᵀ.
#[derive(Debug, Clone)]
pub struct Cholesky {
    l: SquareMatrix,
}

/// Column at which a matrix stopped being positive definite: it is (numerically) a linear
/// combination of the columns before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotPositiveDefinite {
    /// 0-based column.
    pub column: usize,
}

impl Cholesky {
    /// Factorises `a`; a pivot below `rel_tol` times its original diagonal marks a dependent column.
    pub fn new(a: &SquareMatrix, rel_tol: f64) -> Result<Self, NotPositiveDefinite> {
        let n = a.n();
        let mut l = SquareMatrix::zeros(n);
        for j in 0..n {
            let mut d = a.get(j, j);
            for k in 0..j {
                d -= l.get(j, k) * l.get(j, k);
            }
            if !d.is_finite() || d <= 0.0 || d <= rel_tol * a.get(j, j).abs() {
                return Err(NotPositiveDefinite { column: j });
            }
            let djj = d.sqrt();
            l.set(j, j, djj);
            for i in j + 1..n {
                let mut s = a.get(i, j);
                for k in 0..j {
                    s -= l.get(i, k) * l.get(j, k);
                }
                l.set(i, j, s / djj);
            }
        }
        Ok(Self { l })
    }

    /// Solves A x = b.
    pub fn solve(&self, b: &[f64]) -> Vec<f64> {
        let n = self.l.n();
        let mut y = b.to_vec();
        for i in 0..n {
            let mut s = y[i];
            for k in 0..i {
                s -= self.l.get(i, k) * y[k];
            }
            y[i] = s / self.l.get(i, i);
        }
        for i in (0..n).rev() {
            let mut s = y[i];
            for k in i + 1..n {
                s -= self.l.get(k, i) * y[k];
            }
            y[i] = s / self.l.get(i, i);
        }
        y
    }

    /// A⁻¹.
    pub fn inverse(&self) -> SquareMatrix {
        let n = self.l.n();
        let mut inv = SquareMatrix::zeros(n);
        let mut e = vec![0.0; n];
        for j in 0..n {
            e.iter_mut().for_each(|v| *v = 0.0);
            e[j] = 1.0;
            let col = self.solve(&e);
            for i in 0..n {
                inv.set(i, j, col[i]);
            }
        }
        inv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_and_inverts() {
        let mut a = SquareMatrix::zeros(3);
        let vals = [[4.0, 2.0, 0.6], [2.0, 5.0, 1.0], [0.6, 1.0, 3.0]];
        for i in 0..3 {
            for j in 0..3 {
                a.set(i, j, vals[i][j]);
            }
        }
        let c = Cholesky::new(&a, 1e-12).unwrap();
        let x = c.solve(&[1.0, 2.0, 3.0]);
        for i in 0..3 {
            let ax: f64 = (0..3).map(|j| vals[i][j] * x[j]).sum();
            assert!((ax - [1.0, 2.0, 3.0][i]).abs() < 1e-12);
        }
        let inv = c.inverse();
        for i in 0..3 {
            for j in 0..3 {
                let p: f64 = (0..3).map(|k| vals[i][k] * inv.get(k, j)).sum();
                assert!((p - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn finds_the_dependent_column() {
        // column 2 = column 0 + column 1 in the Gram matrix of x = [[1,0,1],[0,1,1],[1,1,2]]
        let x = [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 2.0], [2.0, 1.0, 3.0]];
        let mut a = SquareMatrix::zeros(3);
        for row in &x {
            for i in 0..3 {
                for j in 0..3 {
                    a.add(i, j, row[i] * row[j]);
                }
            }
        }
        assert_eq!(Cholesky::new(&a, 1e-10).unwrap_err(), NotPositiveDefinite { column: 2 });
    }
}
