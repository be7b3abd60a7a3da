enum UnitsPlaceholder {}
