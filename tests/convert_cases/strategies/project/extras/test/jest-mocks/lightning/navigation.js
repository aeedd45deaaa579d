export const NavigationMixin = (Base) => Base;
